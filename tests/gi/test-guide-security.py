# test-guide-security.py: the guide's "Security Configuration" examples
# (custom policies, presets, customising presets, backend-specific settings,
# the complete example) and "Layer Security Policies", run as written with
# only their import lines changed.
import unittest

import guide
from llmsbxtest import Llmsbx


class GuideSecurityTest(unittest.TestCase):

    def test_security_policies(self):
        namespace, _ = guide.run(r'''
            from llm_sandbox import SandboxSession
            from llm_sandbox.security import (
                SecurityPolicy,
                SecurityPattern,
                RestrictedModule,
                SecurityIssueSeverity
            )

            # Create custom security policy
            policy = SecurityPolicy(
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

            with SandboxSession(lang="python", security_policy=policy) as session:
                pass
        ''')
        policy = namespace['policy']
        self.assertEqual([p.description for p in policy.patterns],
                         ['System command execution', 'File write operation'])
        self.assertEqual([m.name for m in policy.restricted_modules], ['subprocess'])
        # The policy is enforced: the violation names what matched.
        with Llmsbx.SandboxSession(lang='python', security_policy=policy) as session:
            with self.assertRaises(Llmsbx.SecurityViolationError) as raised:
                session.run("import os\nos.system('ls')")
            self.assertEqual([v.description for v in raised.exception.violations], ['System command execution'])
            self.assertTrue(raised.exception.matches(Llmsbx.error_quark(), Llmsbx.Error.SECURITY_VIOLATION))
            with self.assertRaises(Llmsbx.SecurityViolationError) as raised:
                session.install(['subprocess'])
            self.assertEqual([v.name for v in raised.exception.violations], ['subprocess'])

    def test_preset_basic_usage(self):
        namespace, _ = guide.run('''
            from llm_sandbox import SandboxSession, get_security_preset

            # Get a complete security configuration
            config = get_security_preset("production", "python", "docker")

            # Use it in a session
            with SandboxSession(
                lang="python",
                security_policy=config.security_policy,
                runtime_configs=config.runtime_config
            ) as session:
                result = session.run("print('Hello, World!')")
        ''')
        self.assertEqual(namespace['result'].stdout, 'Hello, World!\n')
        self.assertEqual(namespace['config'].runtime_config['network_mode'], 'none')

    def test_customizing_presets(self):
        namespace, _ = guide.run(r'''
            from llm_sandbox import SandboxSession
            from llm_sandbox import get_security_preset, SecurityPattern, SecurityIssueSeverity

            # Start with production preset
            config = get_security_preset("production", "python", "docker")

            # Modify runtime configuration
            config.runtime_config["mem_limit"] = "1g"  # Increase memory limit
            config.runtime_config["network_mode"] = "bridge"  # Enable network

            # Add custom security patterns
            custom_pattern = SecurityPattern(
                pattern=r"\bpandas\.",
                description="Pandas library usage",
                severity=SecurityIssueSeverity.LOW
            )
            config.security_policy.add_pattern(custom_pattern)

            # Use the customized configuration
            with SandboxSession(
                lang="python",
                security_policy=config.security_policy,
                runtime_configs=config.runtime_config
            ) as session:
                pass
        ''')
        config = namespace['config']
        self.assertEqual(config.runtime_config['mem_limit'], '1g')
        self.assertIn('Pandas library usage', [p.description for p in config.security_policy.patterns])

    def test_backend_specific_configurations(self):
        _, out = guide.run('''
            from llm_sandbox import get_security_preset

            # Docker/Podman example
            config = get_security_preset("strict", "python", "docker")
            print(config.runtime_config)
        ''')
        printed = eval(out)
        for key, value in {'mem_limit': '128m', 'network_mode': 'none', 'read_only': True,
                           'user': 'nobody:nogroup', 'cap_drop': ['ALL'],
                           'security_opt': ['no-new-privileges:true']}.items():
            self.assertEqual(printed[key], value, key)

        namespace, _ = guide.run('''
            from llm_sandbox import get_security_preset

            # Kubernetes example
            config = get_security_preset("production", "python", "kubernetes")
            # config.runtime_config is None for Kubernetes
            # You must provide pod_manifest parameter separately
        ''')
        self.assertIsNone(namespace['config'].runtime_config)

    def test_complete_example(self):
        _, out = guide.run('''
            from llm_sandbox import SandboxSession, get_security_preset

            # List available presets
            from llm_sandbox import list_available_presets
            print("Available presets:", list_available_presets())
            # ['development', 'production', 'strict', 'educational']

            # Use strict preset for untrusted code
            config = get_security_preset("strict", "python", "docker")

            with SandboxSession(
                lang="python",
                security_policy=config.security_policy,
                runtime_configs=config.runtime_config
            ) as session:
                # Check code safety before execution
                code = "import os; os.system('ls')"
                is_safe, violations = session.is_safe(code)

                if not is_safe:
                    print("Code blocked by security policy!")
                    for violation in violations:
                        print(f"  - {violation.description}")
                else:
                    result = session.run(code)
        ''')
        lines = out.splitlines()
        self.assertEqual(lines[0], "Available presets: ['development', 'production', 'strict', 'educational']")
        self.assertEqual(lines[1], 'Code blocked by security policy!')
        self.assertGreaterEqual(len(lines), 3)
        self.assertTrue(all(line.startswith('  - ') for line in lines[2:]))

    def test_layer_security_policies(self):
        namespace, _ = guide.run(r'''
            from llm_sandbox import get_security_policy, SecurityPattern, SecurityIssueSeverity

            # Base policy
            base_policy = get_security_policy("production")

            # Add custom patterns
            base_policy.add_pattern(SecurityPattern(
                pattern=r"requests\.get\s*\(.*internal",
                description="Internal network access",
                severity=SecurityIssueSeverity.HIGH
            ))
        ''')
        base_policy = namespace['base_policy']
        production = Llmsbx.get_security_preset('production', 'python', 'docker').security_policy
        self.assertEqual(len(base_policy.patterns), len(production.patterns) + 1)
        self.assertEqual(base_policy.severity_threshold, production.severity_threshold)
        session = Llmsbx.SandboxSession(lang='python', security_policy=base_policy)
        safe, violations = session.is_safe("import requests\nrequests.get('http://internal/api')")
        self.assertFalse(safe)
        self.assertIn('Internal network access', [v.description for v in violations])


if __name__ == '__main__':
    unittest.main(verbosity=2)
