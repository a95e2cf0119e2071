/* llmsbx-session-async.c: the one helper every _async/_finish pair of the
 * session uses, and the thread pool it runs them on.
 *
 * Each _async form runs its blocking counterpart in a worker thread, with
 * live output delivered in the caller's thread-default main context. The
 * workers are the library's own GThreadPool, not GTask's: runs block for
 * minutes, and GTask's pool, sized for short I/O, queues work behind them
 * (growing only slowly). The pool has no bound: each call holds a thread
 * only as long as it blocks, and a bounded pool would queue a close() behind
 * the very run it has to cancel. Idle threads are released by GLib. */
#include "config.h"

#include "llmsbx-sandbox-session-private.h"

typedef struct {
  LlmsbxSessionCall call;
  gboolean          returns_boolean;
} CallData;

typedef struct {
  GTask    *task;
  CallData  data;
} PoolItem;

static void
pool_worker (gpointer item_data,
             gpointer pool_data)
{
  PoolItem *item = item_data;
  g_autoptr(GTask) task = item->task;
  LlmsbxSandboxSession *self = g_task_get_source_object (task);
  GError *error = NULL;
  gpointer result;

  llmsbx_session_set_output_context (g_task_get_context (task));
  result = item->data.call (self, g_task_get_task_data (task), g_task_get_cancellable (task), &error);
  llmsbx_session_set_output_context (NULL);

  if (error != NULL)
    g_task_return_error (task, error);
  else if (item->data.returns_boolean)
    g_task_return_boolean (task, result != NULL);
  else
    g_task_return_pointer (task, result, g_object_unref);
  g_free (item);
}

static GThreadPool *
get_pool (void)
{
  static gsize pool;

  if (g_once_init_enter (&pool))
    {
      GError *error = NULL;
      GThreadPool *created = g_thread_pool_new (pool_worker, NULL, -1, FALSE, &error);

      /* A shared pool makes no thread here, so it cannot fail. */
      g_assert_no_error (error);
      g_once_init_leave (&pool, (gsize) created);
    }
  return (GThreadPool *) pool;
}

/* Starts @call (@args, freed with @args_free) in a worker thread. @call
 * returns a new object, or for @returns_boolean TRUE as any non-NULL
 * pointer; it sets @error when it fails. */
void
llmsbx_session_call_async (LlmsbxSandboxSession *self,
                           gpointer              source_tag,
                           LlmsbxSessionCall     call,
                           gboolean              returns_boolean,
                           gpointer              args,
                           GDestroyNotify        args_free,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  PoolItem *item = g_new0 (PoolItem, 1);
  GError *error = NULL;

  item->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (item->task, source_tag);
  g_task_set_task_data (item->task, args, args_free);
  item->data.call = call;
  item->data.returns_boolean = returns_boolean;

  /* Pushing fails only when no thread can be made (out of resources). */
  if (!g_thread_pool_push (get_pool (), item, &error))
    {
      g_task_return_error (item->task, error);
      g_object_unref (item->task);
      g_free (item);
    }
}

/* The object a call started by llmsbx_session_call_async() returned. */
gpointer
llmsbx_session_call_finish (LlmsbxSandboxSession  *self,
                            GAsyncResult          *result,
                            gpointer               source_tag,
                            GError               **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
llmsbx_session_call_finish_boolean (LlmsbxSandboxSession  *self,
                                    GAsyncResult          *result,
                                    gpointer               source_tag,
                                    GError               **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
