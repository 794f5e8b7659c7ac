"""Images: explain a classifier of images (e.g. a CNN) through superpixels, occlusion, RISE and gradients.

Segments of an image (superpixels) are the players; the same engine and estimators that explain a
table explain the image. No deep-learning framework is imported: the model is any callable on a
batch of images. scikit-image (the ``image`` extra) is imported only by :func:`segment` when a
superpixel method asks for it. A model that also gives gradients (:func:`keras_model`, or the small
protocol of :mod:`tabxai.image.gradient_model`) opts into gradient and CAM maps; Keras is imported
only by :func:`keras_model`.
"""

from ._schema import ImageSchema
from .compare import Comparison, compare
from .explain import explain
from .explanation import ImageExplanation
from .faithfulness import FaithfulnessCurve, deletion_auc, insertion_auc
from .gradient_model import GradientImageModel
from .keras import keras_model
from .masker import ImageMasker
from .pixel_explanation import PixelExplanation
from .sanity import SanityCheck, sanity_check
from .segmentation import segment

__all__ = ["Comparison", "FaithfulnessCurve", "GradientImageModel", "ImageExplanation", "ImageMasker", "ImageSchema",
           "PixelExplanation", "SanityCheck", "compare", "deletion_auc", "explain", "insertion_auc", "keras_model",
           "sanity_check", "segment"]
