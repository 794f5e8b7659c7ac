"""The gradient-capable image model: a small protocol that opts a model into gradient and CAM maps.

tabxai explains any image model from its prediction function. A model that can also give
gradients opts into more by offering, beside ``predict``:

- ``predict(images) -> (n, n_outputs)``: scores of a batch of images in the model's layout;
- ``gradient(images, output) -> array of the images' shape``: the gradient of output column
  ``output`` (an int position) with respect to each image's values;
- for CAM methods only, ``activations_and_gradients(images, output) -> (A, G)``: the activations of
  one convolution layer and the gradient of the output with respect to them, both ``(n, h, w, k)``;
- for :func:`tabxai.image.sanity_check` only, ``layer_names`` (the layers with weights, input to
  output) and ``randomized(n_layers, random_state)``: a new model of the same protocol whose top
  ``n_layers`` layers have random weights (the original untouched).

:func:`tabxai.image.keras_model` gives this protocol to a Keras 3 model; any framework can be
adapted in a few lines (see the guide). Images and gradients are NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from ..model import has_method

__all__ = ["GradientImageModel", "as_gradient_model", "is_gradient_model"]


def is_gradient_model(model):
    """Whether ``model`` offers the gradient protocol (``predict`` and ``gradient``)."""
    return has_method(model, "gradient") and has_method(model, "predict")


class GradientImageModel:
    """A user's object of the gradient protocol, made callable like any tabxai image model.

    Calling it predicts, so the model-agnostic methods (kernel-shap, lime, occlusion, rise ...) take
    it as they take a function. :func:`tabxai.image.keras_model` returns a subclass.

    Parameters
    ----------
    model : object
        With ``predict(images)`` and ``gradient(images, output)``; optionally
        ``activations_and_gradients(images, output)``, ``layer_names`` and ``randomized(n_layers, random_state)``.

    Examples
    --------
    >>> import numpy as np
    >>> class Linear:  # score = sum of the pixels times w
    ...     w = np.arange(12.0).reshape(2, 2, 3)
    ...     def predict(self, images):
    ...         return (images * self.w).sum(axis=(1, 2, 3))[:, None]
    ...     def gradient(self, images, output):
    ...         return np.broadcast_to(self.w, images.shape)
    >>> gm = as_gradient_model(Linear())
    >>> gm(np.ones((1, 2, 2, 3)))
    array([[66.]])
    """

    def __init__(self, model):
        self.model = model

    def __call__(self, images):
        return self.predict(images)

    def predict(self, images):
        return np.asarray(self.model.predict(images), dtype=np.float64)

    def gradient(self, images, output):
        return np.asarray(self.model.gradient(images, output), dtype=np.float64)

    @property
    def has_cam(self):
        """Whether CAM methods (``activations_and_gradients``) are available."""
        return has_method(self.model, "activations_and_gradients")

    def activations_and_gradients(self, images, output):
        if not self.has_cam:
            raise TypeError(f"{type(self.model).__name__} has no activations_and_gradients(images, output) method; "
                            "CAM methods (grad-cam, grad-cam++) need one (the activations of a convolution layer and "
                            "the gradient of the output with respect to them, both (n, h, w, k))")
        activations, gradients = self.model.activations_and_gradients(images, output)
        return np.asarray(activations, dtype=np.float64), np.asarray(gradients, dtype=np.float64)

    @property
    def layer_names(self):
        return tuple(getattr(self.model, "layer_names", ()))

    def randomized(self, n_layers, random_state=None):
        """A model whose top ``n_layers`` layers with weights are re-initialised at random."""
        if not has_method(self.model, "randomized"):
            raise TypeError(f"{type(self.model).__name__} has no randomized(n_layers, random_state) method; "
                            "the sanity check re-initialises layers through it (tabxai.image.keras_model has one)")
        return as_gradient_model(self.model.randomized(n_layers, random_state))


def as_gradient_model(model):
    """``model`` as a :class:`GradientImageModel`; a TypeError saying what is missing otherwise."""
    if isinstance(model, GradientImageModel):
        return model
    if not is_gradient_model(model):
        missing = [name for name in ("predict", "gradient") if not has_method(model, name)]
        raise TypeError(
            "gradient methods need a gradient-capable model: tabxai.image.keras_model(net) for Keras 3, or an "
            "object with predict(images) and gradient(images, output) (and activations_and_gradients(images, "
            f"output) for CAM methods); got {type(model).__name__}, which lacks {' and '.join(missing)}"
        )
    return GradientImageModel(model)
