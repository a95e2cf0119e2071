/* test-engine-runtime-configs.c: docker-py style runtime configs → Engine API JSON. */
#include <llmsbx-engine-runtime-configs.h>
#include <string.h>

/* Applies the GVariant in text form to an empty create body. */
static JsonNode *
apply (const char  *configs_text,
       GError     **error)
{
  g_autoptr(GVariant) configs = g_variant_ref_sink (g_variant_new_parsed (configs_text));
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, json_object_new ());

  if (!llmsbx_engine_runtime_configs_apply (configs, json_node_get_object (node), error))
    return NULL;
  return g_steal_pointer (&node);
}

static void
check (const char *configs_text,
       const char *expected_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) got = apply (configs_text, &error);
  g_autoptr(JsonNode) want = json_from_string (expected_json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (got);
  if (!json_node_equal (got, want))
    {
      g_autofree char *got_text = json_to_string (got, FALSE);
      g_test_message ("%s\n  got:  %s\n  want: %s", configs_text, got_text, expected_json);
      g_test_fail ();
    }
}

static void
check_error (const char *configs_text,
             const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) got = apply (configs_text, &error);

  if (got != NULL)
    g_test_message ("%s was accepted", configs_text);
  g_assert_null (got);
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message_part) == NULL)
    {
      g_test_message ("%s: message \"%s\" lacks \"%s\"", configs_text, error->message, message_part);
      g_test_fail ();
    }
}

static void
test_memory (void)
{
  check ("{'mem_limit': <'512m'>}", "{\"HostConfig\": {\"Memory\": 536870912}}");
  check ("{'mem_limit': <'1g'>}", "{\"HostConfig\": {\"Memory\": 1073741824}}");
  check ("{'mem_limit': <'1G'>}", "{\"HostConfig\": {\"Memory\": 1073741824}}");
  check ("{'mem_limit': <'1.5g'>}", "{\"HostConfig\": {\"Memory\": 1610612736}}");
  check ("{'mem_limit': <'512mb'>}", "{\"HostConfig\": {\"Memory\": 536870912}}");
  check ("{'mem_limit': <'100k'>}", "{\"HostConfig\": {\"Memory\": 102400}}");
  check ("{'mem_limit': <'4096'>}", "{\"HostConfig\": {\"Memory\": 4096}}");
  check ("{'mem_limit': <'4096b'>}", "{\"HostConfig\": {\"Memory\": 4096}}");
  check ("{'mem_limit': <'1t'>}", "{\"HostConfig\": {\"Memory\": 1099511627776}}");
  check ("{'mem_limit': <268435456>}", "{\"HostConfig\": {\"Memory\": 268435456}}");
  check ("{'mem_limit': <uint64 268435456>}", "{\"HostConfig\": {\"Memory\": 268435456}}");
  check ("{'mem_limit': <268435456.0>}", "{\"HostConfig\": {\"Memory\": 268435456}}");
  check ("{'memswap_limit': <'2g'>}", "{\"HostConfig\": {\"MemorySwap\": 2147483648}}");
  check ("{'memswap_limit': <-1>}", "{\"HostConfig\": {\"MemorySwap\": -1}}");
  check ("{'mem_reservation': <'64m'>}", "{\"HostConfig\": {\"MemoryReservation\": 67108864}}");
  check ("{'shm_size': <'64m'>}", "{\"HostConfig\": {\"ShmSize\": 67108864}}");
}

static void
test_cpu (void)
{
  check ("{'cpu_period': <100000>, 'cpu_quota': <50000>}",
         "{\"HostConfig\": {\"CpuPeriod\": 100000, \"CpuQuota\": 50000}}");
  /* Numbers in any variant type that holds them, and as decimal strings. */
  check ("{'cpu_period': <uint32 100000>}", "{\"HostConfig\": {\"CpuPeriod\": 100000}}");
  check ("{'cpu_period': <int64 100000>}", "{\"HostConfig\": {\"CpuPeriod\": 100000}}");
  check ("{'cpu_period': <100000.0>}", "{\"HostConfig\": {\"CpuPeriod\": 100000}}");
  check ("{'cpu_period': <'100000'>}", "{\"HostConfig\": {\"CpuPeriod\": 100000}}");
  check ("{'cpu_quota': <-1>}", "{\"HostConfig\": {\"CpuQuota\": -1}}");
  check ("{'cpu_shares': <int16 512>}", "{\"HostConfig\": {\"CpuShares\": 512}}");
  check ("{'cpu_count': <2>}", "{\"HostConfig\": {\"NanoCpus\": 2000000000}}");
  check ("{'nano_cpus': <500000000>}", "{\"HostConfig\": {\"NanoCpus\": 500000000}}");
  check ("{'cpuset_cpus': <'0-1'>}", "{\"HostConfig\": {\"CpusetCpus\": \"0-1\"}}");
  check ("{'pids_limit': <64>}", "{\"HostConfig\": {\"PidsLimit\": 64}}");
  check ("{'pids_limit': <-1>}", "{\"HostConfig\": {\"PidsLimit\": -1}}");
}

static void
test_network (void)
{
  check ("{'network_mode': <'none'>}", "{\"HostConfig\": {\"NetworkMode\": \"none\"}}");
  check ("{'dns': <['8.8.8.8', '8.8.4.4']>}", "{\"HostConfig\": {\"Dns\": [\"8.8.8.8\", \"8.8.4.4\"]}}");
  check ("{'dns': <'1.1.1.1'>}", "{\"HostConfig\": {\"Dns\": [\"1.1.1.1\"]}}");
  check ("{'dns_search': <['example.org']>}", "{\"HostConfig\": {\"DnsSearch\": [\"example.org\"]}}");
  check ("{'extra_hosts': <{'db': '127.0.0.1'}>}", "{\"HostConfig\": {\"ExtraHosts\": [\"db:127.0.0.1\"]}}");
  check ("{'extra_hosts': <['db:127.0.0.2']>}", "{\"HostConfig\": {\"ExtraHosts\": [\"db:127.0.0.2\"]}}");
  check ("{'hostname': <'sbx'>, 'domainname': <'example.org'>}",
         "{\"HostConfig\": {}, \"Hostname\": \"sbx\", \"Domainname\": \"example.org\"}");
}

static void
test_ports (void)
{
  check ("{'ports': <{'8080/tcp': <8080>}>}",
         "{\"ExposedPorts\": {\"8080/tcp\": {}},"
         " \"HostConfig\": {\"PortBindings\": {\"8080/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8080\"}]}}}");
  check ("{'ports': <{'80': <'127.0.0.1:8080'>}>}",
         "{\"ExposedPorts\": {\"80/tcp\": {}},"
         " \"HostConfig\": {\"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"8080\"}]}}}");
  check ("{'ports': <{'53/udp': <[<5353>, <'127.0.0.1:5354'>]>}>}",
         "{\"ExposedPorts\": {\"53/udp\": {}},"
         " \"HostConfig\": {\"PortBindings\": {\"53/udp\": [{\"HostIp\": \"\", \"HostPort\": \"5353\"},"
         " {\"HostIp\": \"127.0.0.1\", \"HostPort\": \"5354\"}]}}}");
  check ("{'ports': <{'9000/tcp': <('127.0.0.1', 9001)>}>}",
         "{\"ExposedPorts\": {\"9000/tcp\": {}},"
         " \"HostConfig\": {\"PortBindings\": {\"9000/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"9001\"}]}}}");
  check ("{'ports': <{'7000': <@mi nothing>, '7001': <'[::1]:7001'>}>}",
         "{\"ExposedPorts\": {\"7000/tcp\": {}, \"7001/tcp\": {}},"
         " \"HostConfig\": {\"PortBindings\": {\"7000/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"\"}],"
         " \"7001/tcp\": [{\"HostIp\": \"::1\", \"HostPort\": \"7001\"}]}}}");
}

static void
test_volumes (void)
{
  check ("{'volumes': <{'/host/data': <{'bind': <'/data'>, 'mode': <'rw'>}>,"
         " '/host/config': <{'bind': <'/config'>, 'mode': <'ro'>}>}>}",
         "{\"HostConfig\": {\"Binds\": [\"/host/data:/data:rw\", \"/host/config:/config:ro\"]}}");
  check ("{'volumes': <{'/h': <{'bind': <'/c'>}>}>}", "{\"HostConfig\": {\"Binds\": [\"/h:/c:rw\"]}}");
  check ("{'volumes': <{'/h': <{'bind': '/c', 'mode': 'ro'}>}>}", "{\"HostConfig\": {\"Binds\": [\"/h:/c:ro\"]}}");
  check ("{'volumes': <{'/h': <'/c'>}>}", "{\"HostConfig\": {\"Binds\": [\"/h:/c:rw\"]}}");
  check ("{'volumes': <['/a:/b:ro', '/c:/d']>}", "{\"HostConfig\": {\"Binds\": [\"/a:/b:ro\", \"/c:/d\"]}}");
  check ("{'tmpfs': <{'/tmp': 'size=50m,noexec,nosuid,nodev'}>}",
         "{\"HostConfig\": {\"Tmpfs\": {\"/tmp\": \"size=50m,noexec,nosuid,nodev\"}}}");
  check ("{'tmpfs': <['/run:size=8m', '/var/tmp']>}",
         "{\"HostConfig\": {\"Tmpfs\": {\"/run\": \"size=8m\", \"/var/tmp\": \"\"}}}");
  check ("{'devices': <['/dev/fuse', '/dev/a:/dev/b:r']>}",
         "{\"HostConfig\": {\"Devices\": ["
         "{\"PathOnHost\": \"/dev/fuse\", \"PathInContainer\": \"/dev/fuse\", \"CgroupPermissions\": \"rwm\"},"
         "{\"PathOnHost\": \"/dev/a\", \"PathInContainer\": \"/dev/b\", \"CgroupPermissions\": \"r\"}]}}");
}

static void
test_process (void)
{
  check ("{'environment': <{'PYTHONPATH': <'/app'>, 'N': <3>, 'EMPTY': <''>}>}",
         "{\"HostConfig\": {}, \"Env\": [\"PYTHONPATH=/app\", \"N=3\", \"EMPTY=\"]}");
  check ("{'environment': <{'A': 'x'}>}", "{\"HostConfig\": {}, \"Env\": [\"A=x\"]}");
  check ("{'environment': <['A=1', 'B=2']>}", "{\"HostConfig\": {}, \"Env\": [\"A=1\", \"B=2\"]}");
  check ("{'working_dir': <'/workspace'>}", "{\"HostConfig\": {}, \"WorkingDir\": \"/workspace\"}");
  check ("{'user': <'1000:1000'>}", "{\"HostConfig\": {}, \"User\": \"1000:1000\"}");
  check ("{'user': <1000>}", "{\"HostConfig\": {}, \"User\": \"1000\"}");
  check ("{'labels': <{'team': 'ml', 'n': '1'}>}", "{\"HostConfig\": {}, \"Labels\": {\"team\": \"ml\", \"n\": \"1\"}}");
  check ("{'labels': <['flag']>}", "{\"HostConfig\": {}, \"Labels\": {\"flag\": \"\"}}");
  check ("{'stop_signal': <'SIGKILL'>}", "{\"HostConfig\": {}, \"StopSignal\": \"SIGKILL\"}");
  check ("{'ulimits': <[{'name': <'nofile'>, 'soft': <1024>, 'hard': <2048>}]>}",
         "{\"HostConfig\": {\"Ulimits\": [{\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 2048}]}}");
  check ("{'ulimits': <[{'Name': <'nproc'>, 'Soft': <'64'>}]>}",
         "{\"HostConfig\": {\"Ulimits\": [{\"Name\": \"nproc\", \"Soft\": 64, \"Hard\": 64}]}}");
  check ("{'sysctls': <{'net.ipv4.ip_forward': <'0'>, 'kernel.msgmax': <65536>}>}",
         "{\"HostConfig\": {\"Sysctls\": {\"net.ipv4.ip_forward\": \"0\", \"kernel.msgmax\": \"65536\"}}}");
}

static void
test_security (void)
{
  check ("{'privileged': <false>}", "{\"HostConfig\": {\"Privileged\": false}}");
  check ("{'privileged': <'true'>}", "{\"HostConfig\": {\"Privileged\": true}}");
  check ("{'privileged': <1>}", "{\"HostConfig\": {\"Privileged\": true}}");
  check ("{'read_only': <true>}", "{\"HostConfig\": {\"ReadonlyRootfs\": true}}");
  check ("{'init': <false>}", "{\"HostConfig\": {\"Init\": false}}");
  check ("{'oom_kill_disable': <false>}", "{\"HostConfig\": {\"OomKillDisable\": false}}");
  check ("{'auto_remove': <false>}", "{\"HostConfig\": {\"AutoRemove\": false}}");
  check ("{'cap_drop': <['ALL']>, 'cap_add': <['NET_ADMIN']>, 'security_opt': <['no-new-privileges:true']>}",
         "{\"HostConfig\": {\"CapDrop\": [\"ALL\"], \"CapAdd\": [\"NET_ADMIN\"],"
         " \"SecurityOpt\": [\"no-new-privileges:true\"]}}");
  check ("{'cap_drop': <@av [<'ALL'>]>}", "{\"HostConfig\": {\"CapDrop\": [\"ALL\"]}}");
  check ("{'group_add': <['audio']>, 'ipc_mode': <'private'>, 'pid_mode': <'container:x'>}",
         "{\"HostConfig\": {\"GroupAdd\": [\"audio\"], \"IpcMode\": \"private\", \"PidMode\": \"container:x\"}}");
}

/* The examples of the configuration guide, as a Python caller would pass them. */
static void
test_guide_examples (void)
{
  check ("{'privileged': <false>, 'mem_limit': <'512m'>, 'cpu_period': <int64 100000>,"
         " 'cpu_quota': <int64 50000>, 'network_mode': <'bridge'>,"
         " 'volumes': <{'/host/path': <{'bind': <'/container/path'>, 'mode': <'ro'>}>}>,"
         " 'environment': <{'PYTHONPATH': <'/app'>}>, 'working_dir': <'/workspace'>}",
         "{\"HostConfig\": {\"Privileged\": false, \"Memory\": 536870912, \"CpuPeriod\": 100000,"
         " \"CpuQuota\": 50000, \"NetworkMode\": \"bridge\", \"Binds\": [\"/host/path:/container/path:ro\"]},"
         " \"Env\": [\"PYTHONPATH=/app\"], \"WorkingDir\": \"/workspace\"}");
  check ("{'mem_limit': <'128m'>, 'cpu_period': <100000>, 'cpu_quota': <50000>, 'network_mode': <'none'>,"
         " 'read_only': <true>, 'tmpfs': <{'/tmp': 'size=50m,noexec,nosuid,nodev'}>,"
         " 'user': <'nobody:nogroup'>, 'cap_drop': <['ALL']>, 'security_opt': <['no-new-privileges:true']>}",
         "{\"HostConfig\": {\"Memory\": 134217728, \"CpuPeriod\": 100000, \"CpuQuota\": 50000,"
         " \"NetworkMode\": \"none\", \"ReadonlyRootfs\": true,"
         " \"Tmpfs\": {\"/tmp\": \"size=50m,noexec,nosuid,nodev\"}, \"CapDrop\": [\"ALL\"],"
         " \"SecurityOpt\": [\"no-new-privileges:true\"]}, \"User\": \"nobody:nogroup\"}");
}

static void
test_leniency (void)
{
  /* Nested boxes and maybes are opened; a null value is ignored like docker-py's None. */
  check ("{'mem_limit': <<<'1g'>>>}", "{\"HostConfig\": {\"Memory\": 1073741824}}");
  check ("{'mem_limit': <@ms just '1g'>}", "{\"HostConfig\": {\"Memory\": 1073741824}}");
  check ("{'mem_limit': <@ms nothing>}", "{\"HostConfig\": {}}");
  check ("@a{sv} {}", "{\"HostConfig\": {}}");
  check ("{'cpu_period': '100000'}", "{\"HostConfig\": {\"CpuPeriod\": 100000}}");
  check ("<{'read_only': <true>}>", "{\"HostConfig\": {\"ReadonlyRootfs\": true}}");
}

/* Lists and objects already in the body are extended, not replaced. */
static void
test_merges (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string ("{\"Env\": [\"A=1\"], \"Labels\": {\"k\": \"v\"},"
                                               " \"HostConfig\": {\"Init\": true}}", &error);
  g_autoptr(JsonNode) want = json_from_string ("{\"Env\": [\"A=1\", \"B=2\"], \"Labels\": {\"k\": \"v\", \"l\": \"w\"},"
                                               " \"HostConfig\": {\"Init\": true, \"Memory\": 1024}}", &error);
  g_autoptr(GVariant) configs =
    g_variant_ref_sink (g_variant_new_parsed ("{'environment': <['B=2']>, 'labels': <{'l': 'w'}>, "
                                              "'mem_limit': <'1k'>}"));

  g_assert_true (llmsbx_engine_runtime_configs_apply (configs, json_node_get_object (node), &error));
  g_assert_no_error (error);
  g_assert_true (json_node_equal (node, want));

  /* No configs: nothing changes. */
  g_assert_true (llmsbx_engine_runtime_configs_apply (NULL, json_node_get_object (node), &error));
  g_assert_true (json_node_equal (node, want));
}

static void
test_errors (void)
{
  check_error ("{'foo': <1>}", "Unknown runtime config key 'foo'");
  check_error ("{'memory': <'1g'>}", "Unknown runtime config key 'memory'");
  check_error ("<'not a dict'>", "must be a dictionary");
  check_error ("['mem_limit']", "must be a dictionary");

  check_error ("{'mem_limit': <'12q'>}", "Invalid value '12q' for runtime config key 'mem_limit'");
  check_error ("{'mem_limit': <''>}", "'mem_limit'");
  check_error ("{'mem_limit': <'m'>}", "'mem_limit'");
  check_error ("{'mem_limit': <'-5m'>}", "'mem_limit'");
  check_error ("{'mem_limit': <'1.2.3g'>}", "'mem_limit'");
  check_error ("{'mem_limit': <'inf'>}", "'mem_limit'");
  check_error ("{'mem_limit': <'99999999999t'>}", "'mem_limit'");
  check_error ("{'mem_limit': <true>}", "Invalid value true for runtime config key 'mem_limit'");
  check_error ("{'mem_limit': <-1>}", "'mem_limit'");
  check_error ("{'shm_size': <'lots'>}", "'shm_size'");

  check_error ("{'cpu_period': <'abc'>}", "Invalid value 'abc' for runtime config key 'cpu_period'");
  check_error ("{'cpu_period': <1.5>}", "'cpu_period'");
  check_error ("{'cpu_period': <-5>}", "'cpu_period'");
  check_error ("{'cpu_shares': <[1]>}", "'cpu_shares'");
  check_error ("{'cpu_count': <0>}", "'cpu_count'");
  check_error ("{'cpu_count': <2>, 'nano_cpus': <1000>}", "'nano_cpus'");
  check_error ("{'pids_limit': <-2>}", "'pids_limit'");

  check_error ("{'privileged': <'maybe'>}", "Invalid value 'maybe' for runtime config key 'privileged'");
  check_error ("{'read_only': <2>}", "'read_only'");
  check_error ("{'network_mode': <['a']>}", "'network_mode'");
  check_error ("{'dns': <{'a': 'b'}>}", "'dns'");
  check_error ("{'cap_drop': <[1.5]>}", "'cap_drop'");

  check_error ("{'ports': <{'http': <80>}>}", "Invalid container port 'http'");
  check_error ("{'ports': <{'80/icmp': <80>}>}", "Invalid container port '80/icmp'");
  check_error ("{'ports': <{'80': <70000>}>}", "'ports'");
  check_error ("{'ports': <{'80': <'a:b:c'>}>}", "'ports'");
  check_error ("{'ports': <[80]>}", "'ports'");

  check_error ("{'volumes': <{'/h': <{'bind': <'relative'>}>}>}", "'volumes'");
  check_error ("{'volumes': <{'/h': <{'bnd': <'/x'>}>}>}", "Unknown field 'bnd' for volume '/h'");
  check_error ("{'volumes': <{'/h': <5>}>}", "'volumes'");
  check_error ("{'volumes': <['nocolon']>}", "Invalid value 'nocolon' for runtime config key 'volumes'");
  check_error ("{'volumes': <'/a:/b'>}", "'volumes'");
  /* A key that is not an absolute host path would be a named volume, which
   * the engine creates and no one removes. */
  check_error ("{'volumes': <{'named': <{'bind': <'/d'>}>}>}", "'named' in runtime config key 'volumes'");
  check_error ("{'volumes': <{'./data': <'/d'>}>}", "'./data' in runtime config key 'volumes'");
  check_error ("{'volumes': <['named:/d']>}", "'named' in runtime config key 'volumes'");
  check_error ("{'volumes': <['data/x:/d:ro']>}", "'data/x' in runtime config key 'volumes'");
  check_error ("{'tmpfs': <{'relative': 'size=1m'}>}", "'tmpfs'");
  check_error ("{'tmpfs': <['relative']>}", "'tmpfs'");
  check_error ("{'devices': <['relative']>}", "'devices'");

  check_error ("{'environment': <5>}", "'environment'");
  check_error ("{'environment': <{'A=B': 'x'}>}", "Invalid variable name 'A=B'");
  check_error ("{'environment': <{'A': <[1]>}>}", "'environment'");
  check_error ("{'labels': <[1]>}", "'labels'");
  check_error ("{'extra_hosts': <{'db': ''}>}", "'extra_hosts'");
  check_error ("{'ulimits': <[{'name': <'nofile'>}]>}", "'ulimits'");
  check_error ("{'ulimits': <[{'nam': <'nofile'>, 'soft': <1>}]>}", "Unknown field 'nam'");
  /* Found by fuzz-runtime-configs: an empty container port crashed the mapping. */
  check_error ("{'ports': <{'': <8080>}>}", "Invalid container port ''");
  /* Found by fuzz-runtime-configs: the first of two was leaked, the second won. */
  check_error ("{'ulimits': <[{'name': <'nofile'>, 'soft': <1>, 'Soft': <10>}]>}",
               "Field 'Soft' is given twice in runtime config key 'ulimits'");
  check_error ("{'ulimits': <{'name': <'nofile'>}>}", "'ulimits'");
  check_error ("{'sysctls': <['a']>}", "'sysctls'");
  check_error ("{'user': <['root']>}", "'user'");

  check_error ("{'auto_remove': <true>}", "'auto_remove'");
}

/* Runtime configs from a binding may nest as deep as the caller likes; the
 * mapping prints a wrong value into its message, which recursed through all
 * of it (a stack overflow at 100 000 levels). */
static GVariant *
nested_dicts (guint depth)
{
  GVariant *value = g_variant_new_string ("x");

  for (guint i = 0; i < depth; i++)
    {
      GVariantBuilder builder;

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", i + 1 == depth ? "labels" : "a", value);
      value = g_variant_builder_end (&builder);
    }
  return g_variant_ref_sink (value);
}

/* GVariant frees nested values recursively too: one level at a time here. */
static void
free_nested (GVariant *value)
{
  while (g_variant_is_container (value) && g_variant_n_children (value) > 0)
    {
      /* A dictionary entry's value, not its key. */
      GVariant *child = g_variant_get_child_value (value, g_variant_n_children (value) - 1);

      g_variant_unref (value);
      value = child;
    }
  g_variant_unref (value);
}

static void
test_deep_values (void)
{
  GVariant *shallow = nested_dicts (3);
  GVariant *deep = nested_dicts (100000);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (llmsbx_engine_runtime_configs_apply (shallow, body, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'labels'"));
  g_clear_error (&error);

  g_assert_false (llmsbx_engine_runtime_configs_apply (deep, body, &error));
  g_assert_error (error, LLMSBX_ERROR, LLMSBX_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "deeper than 128 containers"));

  free_nested (shallow);
  free_nested (deep);
}

static void
test_parse_bytes (void)
{
  static const struct { const char *text; gint64 bytes; } good[] = {
    { "0", 0 }, { "1", 1 }, { "1b", 1 }, { "1k", 1024 }, { "1kb", 1024 }, { "1KB", 1024 },
    { "2m", 2097152 }, { "0.5g", 536870912 }, { "1.5", 1 }, { "3T", 3298534883328 },
  };
  static const char *bad[] = { "", "b", "kb", ".5m", "1x", "1 m", " 1m", "1m ", "0x10", "1e3", "--1", "1..0m", "1." };
  gint64 bytes;

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (llmsbx_runtime_config_parse_bytes (good[i].text, &bytes));
      g_assert_cmpint (bytes, ==, good[i].bytes);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      if (llmsbx_runtime_config_parse_bytes (bad[i], &bytes))
        {
          g_test_message ("'%s' parsed as %" G_GINT64_FORMAT, bad[i], bytes);
          g_test_fail ();
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/engine/config/memory", test_memory);
  g_test_add_func ("/engine/config/cpu", test_cpu);
  g_test_add_func ("/engine/config/network", test_network);
  g_test_add_func ("/engine/config/ports", test_ports);
  g_test_add_func ("/engine/config/volumes", test_volumes);
  g_test_add_func ("/engine/config/process", test_process);
  g_test_add_func ("/engine/config/security", test_security);
  g_test_add_func ("/engine/config/guide-examples", test_guide_examples);
  g_test_add_func ("/engine/config/leniency", test_leniency);
  g_test_add_func ("/engine/config/merges", test_merges);
  g_test_add_func ("/engine/config/errors", test_errors);
  g_test_add_func ("/engine/config/deep-values", test_deep_values);
  g_test_add_func ("/engine/config/parse-bytes", test_parse_bytes);

  return g_test_run ();
}
