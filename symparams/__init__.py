"""symparams: exact, closed-form shapes and parameter counts of neural networks.

>>> import symparams
>>> symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").params
217706
"""

from .api import parse
from .errors import LimitError, ParseError, ShapeError, SolveError, SymparamsError
from .network import LayerInfo, Network

__all__ = ["parse", "Network", "LayerInfo", "SymparamsError", "ParseError", "ShapeError",
           "LimitError", "SolveError"]
__version__ = "0.1.0"
