"""The two array types the engine passes around, named once.

* ``FloatArray``: float32 rows, the dtype of every embedding and every vector store.
  Half the memory of float64, and more precision than a cosine similarity needs.
* ``Float64Array``: float64 samples (latencies, fitted curves), where sums of many
  small numbers must not lose digits.

>>> import numpy as np
>>> np.zeros((2, 3), dtype=np.float32).dtype == np.float32
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Float64Array", "FloatArray"]

#: Embedding vectors: float32, one row per text.
FloatArray = npt.NDArray[np.float32]

#: Numeric samples: float64.
Float64Array = npt.NDArray[np.float64]
