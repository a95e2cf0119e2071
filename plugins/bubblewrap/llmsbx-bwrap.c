/* llmsbx-bwrap.c: a bwrap command line, built argument by argument.
 *
 * Like flatpak's FlatpakBwrap, a value the sandbox's setup adds to, one
 * concern at a time (root file system, mounts, cgroups, capabilities, the
 * command), so each file that knows about a concern writes its own arguments
 * and nothing is pasted into a string a shell would parse. */
#include "llmsbx-bwrap.h"

#include <string.h>

struct _LlmsbxBwrap
{
  GPtrArray *argv;   /* NULL-terminated at all times */
};

LlmsbxBwrap *
llmsbx_bwrap_new (const char *program)
{
  LlmsbxBwrap *self = g_new0 (LlmsbxBwrap, 1);

  self->argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->argv, g_strdup (program));
  g_ptr_array_add (self->argv, NULL);
  return self;
}

void
llmsbx_bwrap_free (LlmsbxBwrap *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->argv);
  g_free (self);
}

static void
take_arg (LlmsbxBwrap *self,
          char        *arg)
{
  /* Replaces the terminating NULL and puts it back. */
  self->argv->pdata[self->argv->len - 1] = arg;
  g_ptr_array_add (self->argv, NULL);
}

void
llmsbx_bwrap_add_arg (LlmsbxBwrap *self,
                      const char  *arg)
{
  take_arg (self, g_strdup (arg));
}

void
llmsbx_bwrap_add_args (LlmsbxBwrap *self,
                       const char  *first,
                       ...)
{
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    llmsbx_bwrap_add_arg (self, arg);
  va_end (args);
}

void
llmsbx_bwrap_add_arg_printf (LlmsbxBwrap *self,
                             const char  *format,
                             ...)
{
  va_list args;

  va_start (args, format);
  take_arg (self, g_strdup_vprintf (format, args));
  va_end (args);
}

void
llmsbx_bwrap_add_bind (LlmsbxBwrap *self,
                       gboolean     read_only,
                       const char  *source,
                       const char  *dest)
{
  llmsbx_bwrap_add_args (self, read_only ? "--ro-bind" : "--bind", source, dest, NULL);
}

/* Sets KEY=VALUE in the environment of the sandbox's first process. */
void
llmsbx_bwrap_add_setenv (LlmsbxBwrap *self,
                         const char  *assignment)
{
  const char *eq = strchr (assignment, '=');
  g_autofree char *name = eq ? g_strndup (assignment, eq - assignment) : g_strdup (assignment);

  llmsbx_bwrap_add_args (self, "--setenv", name, eq ? eq + 1 : "", NULL);
}

/* The arguments, NULL-terminated; owned by @self. */
const char * const *
llmsbx_bwrap_get_argv (LlmsbxBwrap *self)
{
  return (const char * const *) self->argv->pdata;
}

/* For logs: the command with each argument quoted as a shell would need. */
char *
llmsbx_bwrap_to_string (LlmsbxBwrap *self)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i + 1 < self->argv->len; i++)
    {
      g_autofree char *quoted = g_shell_quote (self->argv->pdata[i]);

      if (i > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, quoted);
    }
  return g_string_free (text, FALSE);
}
