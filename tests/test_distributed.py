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


@pytest.mark.slow
def test_dask_backend_gives_identical_influence(client):
    import joblib
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(0, 0.1, 30)
    local = tx.influence(Ridge(), X, y, X[:4], n_models=12, random_state=2)
    with joblib.parallel_config(backend="dask"):
        remote = tx.influence(Ridge(), X, y, X[:4], n_models=12, random_state=2, n_jobs=2)
    np.testing.assert_array_equal(remote.values, local.values)
    np.testing.assert_array_equal(remote.self_influence, local.self_influence)
