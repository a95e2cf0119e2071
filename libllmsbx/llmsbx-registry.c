/* llmsbx-registry.c: being written. */
#include "config.h"
