/* llmsbx-exec-request.c: being written. */
#include "config.h"
