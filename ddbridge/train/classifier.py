"""A small drum-category classifier on standardized handcrafted features (softmax regression)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize

from ddbridge.train.features import Standardizer


class FeatureClassifier:
    """Multinomial logistic regression with L2 regularisation, fitted by L-BFGS."""

    def __init__(self, categories: Sequence[str], l2: float = 1e-3) -> None:
        self.categories = tuple(categories)
        self.l2 = l2
        self.scaler: Standardizer | None = None
        self.weights: np.ndarray | None = None  # [F + 1, K], last row is the bias

    def fit(self, x: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> FeatureClassifier:
        """Fit on features ``[N, F]`` and integer labels ``[N]`` (indices into ``categories``); ``weights``
        ``[N]`` (default: all 1) scale each hit's share of the loss."""
        self.scaler = Standardizer(x)
        xb = self._design(x)
        k = len(self.categories)
        onehot = np.eye(k)[np.asarray(labels)]
        share = np.ones((len(xb), 1)) if weights is None else np.asarray(weights, dtype=np.float64)[:, None]
        share = share / share.mean()

        def loss_grad(w_flat: np.ndarray) -> tuple[float, np.ndarray]:
            w = w_flat.reshape(xb.shape[1], k)
            logits = xb @ w
            logits -= logits.max(axis=1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            loss = -(share * onehot * log_p).sum() / len(xb) + 0.5 * self.l2 * (w[:-1] ** 2).sum()
            grad = xb.T @ (share * (np.exp(log_p) - onehot)) / len(xb)
            grad[:-1] += self.l2 * w[:-1]
            return loss, grad.ravel()

        w0 = np.zeros(xb.shape[1] * k)
        result = optimize.minimize(loss_grad, w0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
        self.weights = result.x.reshape(xb.shape[1], k)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Category indices ``[N]`` for features ``[N, F]``."""
        if self.weights is None:
            raise RuntimeError("classifier is not fitted")
        return (self._design(x) @ self.weights).argmax(axis=1)

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of ``x`` predicted as ``labels``."""
        return float((self.predict(x) == np.asarray(labels)).mean())

    def _design(self, x: np.ndarray) -> np.ndarray:
        z = self.scaler(x)
        return np.concatenate([z, np.ones((len(z), 1))], axis=1)
