/* llmsbx-comments.c: being written. */
#include "config.h"
