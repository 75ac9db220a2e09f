"""workbench: readiness assessment and cost modelling for generative-AI pilots."""

__version__ = "0.1.0"
