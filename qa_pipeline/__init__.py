"""qa-pipeline: speech-analytics quality inspection for outbound telesales calls."""

__version__ = "0.1.0"
