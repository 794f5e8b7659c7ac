"""Explained rows on a real Dask cluster through joblib give the same values as one process."""

import numpy as np
import pytest

import tabxai as tx

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.slow
def test_dask_backend_gives_identical_values(client):
    import joblib

    def _predict(d):  # defined here so that workers receive it by value (tests are not importable there)
        return np.sin(d[:, 0]) * d[:, 1] + d[:, 2] * d[:, 3] - d[:, 4]

    rng = np.random.default_rng(0)
    background, X = rng.normal(size=(12, 5)), rng.normal(size=(6, 5))
    for make in (lambda **o: tx.ExactShapley(_predict, background, **o),
                 lambda **o: tx.KernelSHAP(_predict, background, n_coalitions=12, random_state=3, **o)):
        local = make().explain(X)
        with joblib.parallel_config(backend="dask"):
            remote = make(n_jobs=2).explain(X)
        np.testing.assert_array_equal(remote.values, local.values)
        assert len(client.scheduler_info()["workers"]) == 2
