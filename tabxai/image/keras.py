"""``tx.image.keras_model``: the gradient protocol for a Keras 3 model (JAX backend).

Keras is imported only when this function is called. Gradients are taken with ``jax.grad`` through
``model.stateless_call``: the weights are arguments of functions compiled once per model (and per
batch shape), read from the model's variables at every call (Keras on JAX donates weight buffers in
``predict_on_batch``, so no array of the model's weights is held across calls). A randomised model
for the sanity check shares those compiled functions and holds its own random weights; the user's
model is never modified.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .._validation import check_int, resolve_seed
from .gradient_model import GradientImageModel

__all__ = ["KerasGradientModel", "keras_model"]


def _import_keras():
    try:
        import keras
    except ImportError:
        raise ImportError("tabxai.image.keras_model needs Keras 3: pip install 'tabxai[gradients]'") from None
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"tabxai.image.keras_model needs Keras 3; Keras {keras.__version__} is installed")
    return keras


def keras_model(model, layer=None):
    """A Keras 3 model that gives gradients: for the gradient and CAM methods of :func:`tabxai.image.explain`.

    The result still predicts (calling it returns the model's outputs as float64), so every
    model-agnostic method takes it too.

    Parameters
    ----------
    model : keras.Model
        A built Keras 3 model (Sequential or functional) with one input of images and one output;
        Keras must run on the JAX backend (``KERAS_BACKEND=jax``).
    layer : str or keras.layers.Layer, default=None
        The convolution layer of the CAM methods (grad-cam, grad-cam++), by name or as the layer.
        Default: the last convolution layer, if the model has one (the gradient methods need none).
        Every path from the input to the output must pass through it (a layer inside a residual
        block does not qualify; take the block's output).

    Returns
    -------
    KerasGradientModel

    Examples
    --------
    >>> import os
    >>> _ = os.environ.setdefault("KERAS_BACKEND", "jax")  # before the first import of keras
    >>> import keras
    >>> net = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv"),
    ...                         keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    >>> gm = keras_model(net)
    >>> gm.layer, gm.gradient(np.ones((1, 8, 8, 1)), 0).shape
    ('conv', (1, 8, 8, 1))
    """
    keras = _import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model (Keras 3); got {type(model).__name__}")
    if keras.backend.backend() != "jax":
        raise NotImplementedError(f"tabxai.image.keras_model takes gradients with JAX; Keras runs on "
                                  f"{keras.backend.backend()!r}. Set KERAS_BACKEND=jax before importing keras, "
                                  "or give tabxai an object with predict and gradient methods (see "
                                  "tabxai.image.gradient_model)")
    if not getattr(model, "built", False) or not getattr(model, "inputs", None):
        raise ValueError("`model` must be built on a known input (e.g. keras.Sequential([keras.Input(shape), ...]) "
                         "or a functional model); it has no inputs yet")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"`model` must have one input and one output; it has {len(model.inputs)} inputs and "
                         f"{len(model.outputs)} outputs")
    return KerasGradientModel(model, _find_layer(keras, model, layer))


_CONVOLUTIONS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")


def _find_layer(keras, model, layer):
    convolutions = tuple(getattr(keras.layers, name) for name in _CONVOLUTIONS)
    if layer is None:
        found = [candidate for candidate in model.layers if isinstance(candidate, convolutions)]
        return found[-1] if found else None
    if isinstance(layer, str):
        names = [candidate.name for candidate in model.layers]
        if layer not in names:
            raise ValueError(f"`layer` must name a layer of the model, one of {names}; got {layer!r}")
        layer = model.layers[names.index(layer)]
    elif not isinstance(layer, keras.layers.Layer) or not any(layer is candidate for candidate in model.layers):
        raise ValueError(f"`layer` must be a layer of the model (or its name); got {layer!r}")
    if len(layer.output.shape) != 4:
        raise ValueError(f"`layer` must give 4-D activations (n, h, w, k) for CAM methods; layer {layer.name!r} "
                         f"gives shape {tuple(layer.output.shape)}")
    return layer


class _Compiled:
    """The model's forward, input-gradient and CAM functions, compiled once (shared by randomised copies)."""

    def __init__(self, keras, model, layer):
        import jax
        import jax.numpy as jnp

        self.model = model
        self.body = self.head = None
        if layer is not None:
            self.body = keras.Model(model.inputs, layer.output)
            try:
                self.head = keras.Model(layer.output, model.outputs)
            except ValueError as exc:
                raise ValueError(f"layer {layer.name!r} does not separate the model's input from its output ({exc}); "
                                 "CAM methods need a layer every path passes through, e.g. the output of the last "
                                 "residual block") from None

        def first(outputs):
            return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

        def forward(trainable, non_trainable, images):
            return first(model.stateless_call(trainable, non_trainable, images, training=False)[0])

        def input_gradient(trainable, non_trainable, images, select):
            return jax.grad(lambda x: jnp.sum(forward(trainable, non_trainable, x) @ select))(images)

        def cam(body_weights, head_weights, images, select):
            activations = self.body.stateless_call(*body_weights, images, training=False)[0]

            def score(a):
                return jnp.sum(first(self.head.stateless_call(*head_weights, a, training=False)[0]) @ select)

            return activations, jax.grad(score)(activations)

        self.forward = jax.jit(forward)
        self.input_gradient = jax.jit(input_gradient)
        self.cam = jax.jit(cam) if layer is not None else None
        self.channels_first = layer is not None and getattr(layer, "data_format", None) == "channels_first"


class KerasGradientModel(GradientImageModel):
    """A Keras 3 model with the gradient protocol; build it with :func:`keras_model`.

    Attributes
    ----------
    model : keras.Model
        The user's model (never modified).
    layer : str or None
        Name of the convolution layer of the CAM methods.
    layer_names : tuple of str
        Layers with weights, from the input to the output (the steps of the sanity check).
    """

    def __init__(self, model, layer):
        keras = _import_keras()
        super().__init__(model)
        self._layer = layer
        self._compiled = _Compiled(keras, model, layer)
        self._overrides = {}  # id(variable) -> array, for randomised copies
        self._dtype = np.dtype(getattr(model, "compute_dtype", "float32") or "float32")
        self._n_outputs = int(model.outputs[0].shape[-1]) if len(model.outputs[0].shape) > 1 else 1

    @property
    def layer(self):
        return None if self._layer is None else self._layer.name

    @property
    def layer_names(self):
        return tuple(layer.name for layer in self.model.layers if layer.weights)

    @property
    def has_cam(self):
        return self._layer is not None

    def __repr__(self):
        return f"KerasGradientModel({self.model.name!r}, layer={self.layer!r})"

    def _weights(self, owner):
        """The weights of ``owner`` (the model or one of its CAM halves), read now: Keras may have replaced them.

        The variables are listed afresh too, as a layer made non-trainable moves its weights between the lists.
        """
        trainable, non_trainable = owner.trainable_variables, owner.non_trainable_variables
        overrides = self._overrides
        return ([overrides.get(id(v), v.value) for v in trainable],
                [overrides.get(id(v), v.value) for v in non_trainable])

    def _images(self, images):
        return np.asarray(images, dtype=self._dtype)

    def _select(self, output):
        output = check_int(output, "output", min_value=0, max_value=self._n_outputs - 1)
        select = np.zeros(self._n_outputs, dtype=self._dtype)
        select[output] = 1
        return select

    def predict(self, images):
        scores = np.asarray(self._compiled.forward(*self._weights(self.model), self._images(images)), dtype=np.float64)
        return scores.reshape(len(scores), -1)

    def gradient(self, images, output):
        select = self._select(output)
        return np.asarray(self._compiled.input_gradient(*self._weights(self.model), self._images(images), select),
                          dtype=np.float64)

    def activations_and_gradients(self, images, output):
        if self._compiled.cam is None:
            raise TypeError("the Keras model has no convolution layer for CAM methods; pass layer= to "
                            "tabxai.image.keras_model (a layer with 4-D outputs)")
        select = self._select(output)
        activations, gradients = self._compiled.cam(self._weights(self._compiled.body),
                                                    self._weights(self._compiled.head), self._images(images), select)
        activations, gradients = np.asarray(activations, np.float64), np.asarray(gradients, np.float64)
        if self._compiled.channels_first:
            activations, gradients = activations.transpose(0, 2, 3, 1), gradients.transpose(0, 2, 3, 1)
        return activations, gradients

    def randomized(self, n_layers, random_state=None):
        """A copy whose top ``n_layers`` layers with weights have random weights (cascading randomisation).

        Kernels (weights of two or more dimensions) are drawn Glorot-uniform; vectors (biases,
        normalisation statistics) are shuffled, which keeps their scale. Each layer's draw depends
        only on ``random_state`` and the layer, so a layer randomised at one step keeps its weights
        at the next. The user's model and this model are unchanged.
        """
        weighted = [layer for layer in self.model.layers if layer.weights]
        n_layers = check_int(n_layers, "n_layers", min_value=0, max_value=len(weighted))
        seeds = np.random.SeedSequence(resolve_seed(random_state)).spawn(len(weighted))
        overrides = dict(self._overrides)
        for position in range(len(weighted) - n_layers, len(weighted)):
            rng = np.random.default_rng(seeds[position])
            for variable in weighted[position].weights:
                overrides[id(variable)] = _random_like(np.asarray(variable.value), rng)
        other = copy.copy(self)
        other._overrides = overrides
        return other


def _random_like(array, rng):
    if array.ndim >= 2:
        receptive = math.prod(array.shape[:-2])
        fan_in, fan_out = array.shape[-2] * receptive, array.shape[-1] * receptive
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, array.shape).astype(array.dtype)
    return rng.permutation(array.ravel()).reshape(array.shape).astype(array.dtype)
