"""Images: explain a classifier of images (e.g. a CNN) through superpixels, occlusion and RISE.

Segments of an image (superpixels) are the players; the same engine and estimators that explain a
table explain the image. No deep-learning framework is imported: the model is any callable on a
batch of images. scikit-image (the ``image`` extra) is imported only by :func:`segment` when a
superpixel method asks for it.
"""

from ._schema import ImageSchema
from .explain import explain
from .explanation import ImageExplanation
from .faithfulness import FaithfulnessCurve, deletion_auc, insertion_auc
from .masker import ImageMasker
from .segmentation import segment

__all__ = ["FaithfulnessCurve", "ImageExplanation", "ImageMasker", "ImageSchema", "deletion_auc", "explain",
           "insertion_auc", "segment"]
