/* llmsbx-execution-result.c: being written. */
#include "config.h"
