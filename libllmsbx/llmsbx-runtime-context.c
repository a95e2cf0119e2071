/* llmsbx-runtime-context.c: being written. */
#include "config.h"
