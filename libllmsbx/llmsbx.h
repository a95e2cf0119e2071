/* llmsbx.h: the one header to include. */
#pragma once

#define LLMSBX_INSIDE

#include "llmsbx-version.h"
#include "llmsbx-visibility.h"
#include "llmsbx-enum-types.h"
#include "llmsbx-error.h"
#include "llmsbx-execution-result.h"
#include "llmsbx-output-collector.h"
#include "llmsbx-exec-request.h"
#include "llmsbx-exec-stream.h"
#include "llmsbx-container-spec.h"
#include "llmsbx-sandbox-info.h"
#include "llmsbx-backend.h"
#include "llmsbx-backend-names.h"
#include "llmsbx-runtime-context.h"
#include "llmsbx-runtime-configs.h"
#include "llmsbx-tar.h"
#include "llmsbx-language-handler.h"
#include "llmsbx-language-config.h"
#include "llmsbx-comments.h"
#include "llmsbx-registry.h"
#include "llmsbx-plugin.h"
#include "llmsbx-security-severity.h"
#include "llmsbx-security-category.h"
#include "llmsbx-security-limits.h"
#include "llmsbx-security-pattern.h"
#include "llmsbx-security-restricted-module.h"
#include "llmsbx-security-policy.h"
#include "llmsbx-security-preset.h"
#include "llmsbx-sandbox-pool.h"
#include "llmsbx-sandbox-session.h"
#include "llmsbx-interactive-sandbox-session.h"
#include "llmsbx-reaper.h"

#undef LLMSBX_INSIDE
