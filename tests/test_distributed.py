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
def test_portfolio_audit_on_a_cluster_equals_one_process_byte_for_byte(client, tmp_path):
    """The CLI's --scheduler and joblib's dask backend give the same reasons file as one process."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    X, y = tx.datasets.load_german_credit()
    X = X[["duration", "amount", "age", "installment_rate", "number_credits"]].iloc[:400]
    model = LogisticRegression(max_iter=1000).fit(X, y.iloc[:400])
    settings = dict(positive="bad", favorable="good", n_background=5, n_explained=10, n_repeats=1, n_bootstrap=0,
                    n_recourse=0, applicants=np.ones(len(X), dtype=bool), random_state=4)
    tx.audit(model, X, y.iloc[:400], reasons_out=tmp_path / "local.csv", n_jobs=1, **settings)
    with joblib.parallel_config(backend="dask"):
        tx.audit(model, X, y.iloc[:400], reasons_out=tmp_path / "cluster.csv", n_jobs=2, **settings)
    local, cluster = (tmp_path / "local.csv").read_bytes(), (tmp_path / "cluster.csv").read_bytes()
    assert local == cluster and local.count(b"\n") == len(X) + 1

    from tabxai.cli import main

    data = tmp_path / "data.csv"
    X.assign(risk=y.iloc[:400]).to_csv(data, index=False)
    import joblib as jl

    jl.dump(model, tmp_path / "model.joblib")
    common = ["audit", "--model", str(tmp_path / "model.joblib"), "--data", str(data), "--target", "risk",
              "--positive", "bad", "--favorable", "good", "--background", "5", "--explained", "10", "--repeats", "1",
              "--bootstrap", "0", "--recourse", "0", "--seed", "4", "--quiet"]
    assert main(common + ["--out", str(tmp_path / "a.html"), "--reasons-out", str(tmp_path / "a.csv")]) == 0
    assert main(common + ["--out", str(tmp_path / "b.html"), "--reasons-out", str(tmp_path / "b.csv"),
                          "--scheduler", client.scheduler.address]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
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
