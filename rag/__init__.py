"""rag: Chinese document question answering with hybrid retrieval and cited answers."""

from __future__ import annotations

__version__ = "0.1.0"
