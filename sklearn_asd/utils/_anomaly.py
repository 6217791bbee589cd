"""Anomaly scores (DCASE sign) from any fitted detector or pipeline."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import get_routing_for_object, process_routing


def routed_metadata(obj, method, metadata):
    """The part of ``metadata`` that ``obj.method`` (or the steps it routes to) requests.

    Metadata routing without the global switch, for meta-estimators that call
    their members directly: ``member.fit(X, y, **routed_metadata(member, "fit",
    {"section": s, "domain": d}))`` passes ``section`` only to members that ask
    for it, so scikit-learn's own detectors work as members too.
    """
    if not metadata:
        return {}
    try:
        wanted = get_routing_for_object(obj).consumes(method=method, params=set(metadata))
    except (AttributeError, TypeError, NotImplementedError):
        # objects without routing support (scikit-learn's raise NotImplementedError) consume nothing
        return {}
    return {k: v for k, v in metadata.items() if k in wanted}


def _check_requested(estimator, metadata):
    """Refuse metadata that no step of ``estimator`` requests at scoring time."""
    if not metadata:
        return
    wanted = set(routed_metadata(estimator, "decision_function", metadata))
    if not isinstance(estimator, Pipeline) and not hasattr(estimator, "anomaly_score"):
        wanted = set()  # scikit-learn's detectors score from X alone (-score_samples)
    unused = sorted(set(metadata) - wanted)
    if unused:
        raise TypeError(
            f"anomaly_score got metadata that no step of {type(estimator).__name__} requests: {unused}"
            f" (requested: {sorted(_requestable(estimator))}). Check the spelling, or leave it out."
        )


def _requestable(estimator):
    names = ("section", "domain", "attributes", "outlier", "anomaly")
    return routed_metadata(estimator, "decision_function", dict.fromkeys(names, 0))


def anomaly_score(estimator, X, **metadata):
    """Anomaly scores of ``X``, higher = more anomalous, from a fitted estimator.

    This is the number DCASE submission files hold. It works on our detectors
    (their ``anomaly_score`` method), on any scikit-learn outlier detector
    (``-score_samples``), and on a :class:`~sklearn.pipeline.Pipeline` (or
    imbalanced-learn's) ending in either: ``X`` goes through the transformers,
    samplers are skipped as at predict time, and ``metadata`` (``section``,
    ``domain``) reaches the steps that request it, as metadata routing would
    route it to ``decision_function``. A name that no step requests is an
    error (a misspelt ``domian=`` would otherwise score every clip as if no
    domain were known), as in scikit-learn's routing; ``None`` values are
    left out first, so ``domain=None`` is always accepted.

    Parameters
    ----------
    estimator : fitted estimator or pipeline
    X : array-like
        Clips, one per row, as the estimator's first step expects them.
    **metadata : dict
        Test-time metadata such as ``section=`` and ``domain=`` (arrays with one
        value per clip).

    Returns
    -------
    scores : ndarray of shape (n_clips,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from sklearn_asd.utils import anomaly_score
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> model = IsolationForest(random_state=0).fit(X)
    >>> bool(anomaly_score(model, [[8.0, 8.0]])[0] > anomaly_score(model, [[0.0, 0.0]])[0])
    True
    """
    metadata = {k: v for k, v in metadata.items() if v is not None}
    _check_requested(estimator, metadata)
    return routed_anomaly_score(estimator, X, **metadata)


def routed_anomaly_score(estimator, X, **metadata):
    """:func:`anomaly_score` passing each step only the metadata it requests, and dropping the rest.

    For meta-estimators and scorers that offer every member the same metadata (as scikit-learn's
    routing does for its consumers); a user's call goes through :func:`anomaly_score`, which
    refuses names that no step requests.
    """
    metadata = {k: v for k, v in metadata.items() if v is not None}
    if isinstance(estimator, Pipeline):
        routed = process_routing(
            estimator, "decision_function", **routed_metadata(estimator, "decision_function", metadata)
        )
        Xt = X
        for name, step in estimator.steps[:-1]:
            if step is None or step == "passthrough" or not hasattr(step, "transform"):
                continue  # samplers (fit_resample only) act during fit alone
            Xt = step.transform(Xt, **routed[name]["transform"])
        name, final = estimator.steps[-1]
        return routed_anomaly_score(final, Xt, **routed[name]["decision_function"])
    if hasattr(estimator, "anomaly_score"):
        return np.asarray(
            estimator.anomaly_score(X, **routed_metadata(estimator, "decision_function", metadata))
        )
    if hasattr(estimator, "score_samples"):
        return -np.asarray(estimator.score_samples(X))
    if hasattr(estimator, "decision_function"):
        return -np.asarray(
            estimator.decision_function(X, **routed_metadata(estimator, "decision_function", metadata))
        )
    raise TypeError(
        f"{type(estimator).__name__} has neither anomaly_score, score_samples nor "
        "decision_function: it is not an outlier detector."
    )
