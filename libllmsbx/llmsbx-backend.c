/* llmsbx-backend.c: being written. */
#include "config.h"
