# test-security.py: the security model through GI (policies, presets, is_safe)
# and what the presets enforce inside a sandbox on the real dockerd. The
# guide's examples as written are test-guide-security.py.
import unittest

from llmsbxtest import GLib, Llmsbx, SessionTestCase, container_exists

from gi.repository.Llmsbx import (
    RestrictedModule,
    SandboxSession,
    SecurityIssueSeverity,
    SecurityPattern,
    SecurityPolicy,
    get_security_preset,
    list_available_presets,
)


def guide_policy():
    """The guide's "Security Policies" example, as written there."""
    return SecurityPolicy(
        severity_threshold=SecurityIssueSeverity.MEDIUM,
        patterns=[
            SecurityPattern(
                pattern=r"os\.system",
                description="System command execution",
                severity=SecurityIssueSeverity.HIGH
            ),
            SecurityPattern(
                pattern=r"open\s*\([^)]*['\"][wa]",
                description="File write operation",
                severity=SecurityIssueSeverity.MEDIUM
            )
        ],
        restricted_modules=[
            RestrictedModule(
                name="subprocess",
                description="Process execution",
                severity=SecurityIssueSeverity.HIGH
            )
        ]
    )


class SecurityModelTest(unittest.TestCase):

    def test_policy_from_the_guide(self):
        policy = guide_policy()
        self.assertEqual(policy.severity_threshold, SecurityIssueSeverity.MEDIUM)
        self.assertEqual([p.description for p in policy.patterns],
                         ['System command execution', 'File write operation'])
        self.assertEqual(policy.patterns[0].pattern, r'os\.system')
        self.assertEqual(policy.patterns[0].severity, SecurityIssueSeverity.HIGH)
        self.assertEqual([(m.name, m.severity) for m in policy.restricted_modules],
                         [('subprocess', SecurityIssueSeverity.HIGH)])
        self.assertEqual(int(SecurityIssueSeverity.SAFE), 0)
        self.assertEqual(int(SecurityIssueSeverity.HIGH), 3)

    def test_invalid_regex_raises_when_made(self):
        with self.assertRaises(GLib.Error) as raised:
            SecurityPattern(pattern=r"os\.system(", description="broken",
                            severity=SecurityIssueSeverity.HIGH)
        self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.INVALID_ARGUMENT))
        self.assertIn('missing terminating )', raised.exception.message)

    def test_add_to_a_policy(self):
        policy = SecurityPolicy(severity_threshold=SecurityIssueSeverity.LOW)
        policy.add_pattern(SecurityPattern(pattern=r"\beval\(", description="eval",
                                           severity=SecurityIssueSeverity.MEDIUM))
        policy.add_restricted_module(RestrictedModule(name="socket", description="sockets",
                                                      severity=SecurityIssueSeverity.LOW))
        self.assertEqual(len(policy.patterns), 1)
        self.assertEqual(len(policy.restricted_modules), 1)

    def test_json_round_trip(self):
        policy = guide_policy()
        loaded = SecurityPolicy.from_json(policy.to_json())
        self.assertEqual(loaded.to_json(), policy.to_json())
        self.assertEqual(loaded.restricted_modules[0].name, 'subprocess')

    def test_list_available_presets(self):
        self.assertEqual(list_available_presets(),
                         ['development', 'production', 'strict', 'educational'])

    def test_backend_specific_configurations(self):
        config = get_security_preset("strict", "python", "docker")
        runtime_config = config.runtime_config
        # Every key of the guide's printed dict, with its value.
        expected = {
            "mem_limit": "128m",
            "cpu_period": 100000,
            "cpu_quota": 50000,
            "network_mode": "none",
            "read_only": True,
            "user": "nobody:nogroup",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
        }
        for key, value in expected.items():
            self.assertEqual(runtime_config[key], value, key)
        self.assertEqual(runtime_config["tmpfs"]["/tmp"], "size=50m,noexec,nosuid,nodev")

        kubernetes = get_security_preset("production", "python", "kubernetes")
        self.assertIsNone(kubernetes.runtime_config)
        self.assertIsNotNone(kubernetes.security_policy)
        container = kubernetes.pod_manifest_fragment['spec']['containers'][0]
        self.assertEqual(container['resources']['limits']['memory'], '512Mi')

    def test_unknown_preset(self):
        with self.assertRaises(GLib.Error) as raised:
            get_security_preset("paranoid", "python", "docker")
        self.assertIn('development, production, strict, educational', raised.exception.message)

    def test_is_safe_needs_no_open_session(self):
        session = SandboxSession(lang="python", security_policy=guide_policy())
        safe, violations = session.is_safe("import subprocess\nsubprocess.run(['ls'])")
        self.assertFalse(safe)
        self.assertEqual([v.description for v in violations], ['Process execution'])
        self.assertEqual(violations[0].module, 'subprocess')
        self.assertFalse(session.get_is_open())


class SecuritySessionTest(SessionTestCase):

    def test_policy_session_from_the_guide(self):
        policy = guide_policy()
        with SandboxSession(lang="python", security_policy=policy) as session:
            container_id = session.get_container_id()
            self.assertEqual(session.run("print('fine')").stdout, 'fine\n')
            with self.assertLlmsbxError(Llmsbx.Error.SECURITY_VIOLATION) as refused:
                session.run("import os; os.system('touch /sandbox/pwned')")
            self.assertIn('System command execution', refused.exception.message)
            with self.assertLlmsbxError(Llmsbx.Error.SECURITY_VIOLATION) as refused:
                session.install(['subprocess'])
            self.assertEqual(session.execute_command('ls /sandbox/pwned').exit_code, 2)
        self.assertFalse(container_exists(container_id))

    # The guide's preset examples run as written in test-guide-security.py;
    # these check that what they configure is enforced inside the sandbox.

    def preset_session(self, preset, **changes):
        config = get_security_preset(preset, "python", "docker")
        config.runtime_config.update(changes)
        return config, SandboxSession(lang="python", security_policy=config.security_policy,
                                      runtime_configs=config.runtime_config)

    def test_production_preset_is_enforced(self):
        _, session = self.preset_session("production")
        with session:
            self.assertEqual(session.run("print('Hello, World!')").stdout, 'Hello, World!\n')
            self.assertEqual(session.execute_command('id -u').stdout, '65534\n')
            self.assertNotIn('eth0', session.execute_command('ls /sys/class/net').stdout)

    def test_customised_preset_is_enforced(self):
        config, session = self.preset_session("production", mem_limit="1g", network_mode="bridge")
        config.security_policy.add_pattern(SecurityPattern(
            pattern=r"\bpandas\.", description="Pandas library usage",
            severity=SecurityIssueSeverity.LOW))
        with session:
            limit = session.execute_command(
                'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || '
                'cat /sys/fs/cgroup/memory.max').stdout
            self.assertEqual(limit, '%d\n' % (1 << 30))
            self.assertIn('eth0', session.execute_command('ls /sys/class/net').stdout)
            # LOW is below production's MEDIUM threshold: reported, not blocked.
            safe, violations = session.is_safe("x = pandas.DataFrame()")
            self.assertTrue(safe)
            self.assertEqual([v.description for v in violations], ['Pandas library usage'])

    def test_strict_preset_refuses_what_is_safe_flags(self):
        _, session = self.preset_session("strict")
        code = "import os; os.system('ls')"
        with session:
            safe, violations = session.is_safe(code)
            self.assertFalse(safe)
            self.assertIn('System command execution', [v.description for v in violations])
            with self.assertLlmsbxError(Llmsbx.Error.SECURITY_VIOLATION):
                session.run(code)
            self.assertEqual(session.run("print(6*7)").stdout, '42\n')


if __name__ == '__main__':
    unittest.main(verbosity=2)
