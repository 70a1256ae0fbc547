"""Model providers: the interface and the registry by provider name."""

from sealed.llm.base import ModelConfigError, ModelProvider, ModelTransientError, get_provider

__all__ = ["ModelConfigError", "ModelProvider", "ModelTransientError", "get_provider"]
