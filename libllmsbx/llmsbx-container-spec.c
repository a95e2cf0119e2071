/* llmsbx-container-spec.c: being written. */
#include "config.h"
