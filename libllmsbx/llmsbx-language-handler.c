/* llmsbx-language-handler.c: being written. */
#include "config.h"
