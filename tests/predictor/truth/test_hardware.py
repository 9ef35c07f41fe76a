"""Hardware latency tables: validation, device-name resolution; the real table when present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predictor import truth as T
from supernet.space import NUM_ARCHS

from tests.predictor.truth.fakes import write_csv


def test_hardware_validation_and_device_lookup():
    df = pd.DataFrame({"index": [0, 1, 2], "a_raspi4_latency_ms": [1.0, 2.0, 3.0],
                       "a_edgegpu_latency_ms": [np.nan, 4.0, np.nan], "b_raspi4_latency_ms": [1, 1, 1]})
    out = T.validate_hardware(df, subset=True)
    assert T.latency_columns(out) == ["a_raspi4_latency_ms", "a_edgegpu_latency_ms", "b_raspi4_latency_ms"]
    assert T.latency_column(out, "edgegpu") == "a_edgegpu_latency_ms"
    assert T.latency_column(out, "a_raspi4") == "a_raspi4_latency_ms"
    with pytest.raises(T.BenchmarkError, match="ambiguous"):
        T.latency_column(out, "raspi4")
    with pytest.raises(T.BenchmarkError, match="no latency column for device 'tpu'; choose one of"):
        T.latency_column(out, "tpu")
    with pytest.raises(T.BenchmarkError, match="no latency columns"):
        T.validate_hardware(df[["index"]], subset=True)
    neg = df.assign(a_raspi4_latency_ms=[1.0, -2.0, 3.0])
    with pytest.raises(T.BenchmarkError, match="row 1 \\(index 1\\) is -2; a value > 0 is expected; latencies are positive milliseconds"):
        T.validate_hardware(neg, subset=True)
    with pytest.raises(T.BenchmarkError, match="has no values"):
        T.validate_hardware(df.assign(a_edgegpu_latency_ms=np.nan), subset=True)


def test_real_hardware_table(data_file, tmp_path):
    path = data_file("nb201/nb201_hw_latency.csv.gz")
    hw = T.load_hardware(path)
    assert len(hw) == NUM_ARCHS and (hw["index"].to_numpy() == np.arange(NUM_ARCHS)).all()
    cols = T.latency_columns(hw)
    assert "hwnb_c10_raspi4_latency_ms" in cols and len(cols) >= 10
    assert hw[T.latency_column(hw, "raspi4")].notna().all()
    assert hw[T.latency_column(hw, "hwnb_c10_edgegpu")].notna().sum() == 1999
    raw = pd.read_csv(path)
    with pytest.raises(T.BenchmarkError, match="has neither 'index' nor 'arch_str'"):
        T.load_hardware(write_csv(raw.drop(columns=["index", "arch_str"]), tmp_path / "a.csv.gz"))
    bad = raw.astype({"hwnb_c10_pixel3_latency_ms": object})
    bad.loc[3, "hwnb_c10_pixel3_latency_ms"] = "fast"
    with pytest.raises(T.BenchmarkError, match="'hwnb_c10_pixel3_latency_ms' row 3 \\(index 3\\) holds 'fast', not a number"):
        T.load_hardware(write_csv(bad, tmp_path / "b.csv.gz"))
