/* llmsbx-output-collector.c: being written. */
#include "config.h"
