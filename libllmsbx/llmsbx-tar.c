/* llmsbx-tar.c: being written. */
#include "config.h"
