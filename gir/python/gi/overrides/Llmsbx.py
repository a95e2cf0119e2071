# Python overrides for the Llmsbx namespace: being written.
from ..module import get_introspection_module
Llmsbx = get_introspection_module('Llmsbx')
__all__ = []
