# -*- coding: utf-8 -*-
"""The pure parts of the role's module (ansible/roles/pgssl/library/pgssl.py):
pgssl's argv per state, "would change" from a dry-run report, and the
before/after diff built from the report's line changes. Run by
test/ansible/module.test.ts with /usr/bin/python3 (Debian's ansible-core)."""

import importlib.util
import os
import sys
import tempfile
import unittest

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'ansible', 'roles', 'pgssl')


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The module imports its helper the way Ansible ships it: as ansible.module_utils.pgssl_cli.
load('ansible.module_utils.pgssl_cli', os.path.join(ROLE, 'module_utils', 'pgssl_cli.py'))
pgssl = load('pgssl_role_module', os.path.join(ROLE, 'library', 'pgssl.py'))


def params(**given):
    base = dict((name, None) for name in pgssl.argument_spec())
    base.update(bin='/usr/local/bin/pgssl', state='enabled', extra_args=[])
    base.update(given)
    return base


class Argv(unittest.TestCase):
    def test_enable_flags_in_table_order_lists_repeated(self):
        argv, ignored = pgssl.build_argv(params(conninfo='host=/run/pg port=5433', san=['db1', '10.0.0.5'], days=90, terminate_non_ssl=True, skip_replication=False, only_db=[]), False)
        self.assertEqual(argv, ['/usr/local/bin/pgssl', 'enable', '--yes', '--json', '-d', 'host=/run/pg port=5433', '--san', 'db1', '--san', '10.0.0.5', '--days', '90', '--terminate-non-ssl'])
        self.assertEqual(ignored, [])

    def test_check_mode_is_dry_run(self):
        argv, _ = pgssl.build_argv(params(state='disabled', keep_ssl=True), True)
        self.assertEqual(argv, ['/usr/local/bin/pgssl', 'disable', '--yes', '--json', '--dry-run', '--keep-ssl'])

    def test_options_of_another_state_are_not_passed_but_named(self):
        argv, ignored = pgssl.build_argv(params(state='disabled', san=['db1'], keep_ssl=True, if_expiring_within=30), False)
        self.assertNotIn('--san', argv)
        self.assertNotIn('--if-expiring-within', argv)
        self.assertEqual(sorted(ignored), ['if_expiring_within', 'san'])

    def test_rotate(self):
        argv, _ = pgssl.build_argv(params(state='rotated', if_expiring_within=30, extra_args=['--verbose']), False)
        self.assertEqual(argv, ['/usr/local/bin/pgssl', 'rotate', '--yes', '--json', '--if-expiring-within', '30', '--verbose'])


class WouldChange(unittest.TestCase):
    def test_nothing_planned(self):
        self.assertFalse(pgssl.would_change({'certificate': {'action': 'keep'}, 'settings': [], 'hba': {'changes': []}}))
        self.assertFalse(pgssl.would_change({'settings': [], 'due': False}))  # rotate, not due

    def test_each_part_alone(self):
        self.assertTrue(pgssl.would_change({'certificate': {'action': 'issue'}, 'settings': [], 'hba': {'changes': []}}))
        self.assertTrue(pgssl.would_change({'certificate': {'action': 'keep'}, 'settings': [{'name': 'ssl'}], 'hba': {'changes': []}}))
        self.assertTrue(pgssl.would_change({'certificate': {'action': 'keep'}, 'settings': [], 'hba': {'changes': [{'line': 3}]}}))
        self.assertTrue(pgssl.would_change({'settings': [], 'hba': {'changes': []}, 'sslOffExplicitly': True}))


class HbaDiff(unittest.TestCase):
    def write(self, content):
        handle = tempfile.NamedTemporaryFile('wb', delete=False, suffix='.conf')
        handle.write(content)
        handle.close()
        self.addCleanup(os.unlink, handle.name)
        return handle.name

    def report(self, path, before, after, line=2):
        return {'hba': {'changes': [{'file': path, 'line': line, 'before': before, 'after': after}], 'diff': 'PREPARED'}}

    def test_check_mode_file_is_before_crlf_kept(self):
        path = self.write(b'local all all trust\r\nhost all all 0.0.0.0/0 md5\r\n# end')
        [diff] = pgssl.hba_diffs(self.report(path, 'host all all 0.0.0.0/0 md5', 'hostssl all all 0.0.0.0/0 md5'), True)
        self.assertEqual(diff['before'], 'local all all trust\r\nhost all all 0.0.0.0/0 md5\r\n# end')
        self.assertEqual(diff['after'], 'local all all trust\r\nhostssl all all 0.0.0.0/0 md5\r\n# end')
        self.assertEqual(diff['before_header'], path)

    def test_after_a_run_file_is_after(self):
        path = self.write(b'local all all trust\nhostssl all all 0.0.0.0/0 md5\n')
        [diff] = pgssl.hba_diffs(self.report(path, 'host all all 0.0.0.0/0 md5', 'hostssl all all 0.0.0.0/0 md5'), False)
        self.assertEqual(diff['before'], 'local all all trust\nhost all all 0.0.0.0/0 md5\n')
        self.assertEqual(diff['after'], 'local all all trust\nhostssl all all 0.0.0.0/0 md5\n')

    def test_a_file_that_no_longer_holds_the_line_gets_pgssls_diff(self):
        path = self.write(b'local all all trust\nhost all all 10.0.0.0/8 md5\n')
        self.assertEqual(pgssl.hba_diffs(self.report(path, 'host all all 0.0.0.0/0 md5', 'hostssl all all 0.0.0.0/0 md5'), True), [{'prepared': 'PREPARED'}])
        self.assertEqual(pgssl.hba_diffs(self.report('/nonexistent/pg_hba.conf', 'a', 'b'), True), [{'prepared': 'PREPARED'}])

    def test_settings_both_shapes(self):
        [enable] = pgssl.settings_diff({'settings': [{'name': 'ssl', 'before': 'off', 'after': 'on'}]})
        self.assertEqual((enable['before'], enable['after']), ("ssl = 'off'\n", "ssl = 'on'\n"))
        [disable] = pgssl.settings_diff({'settings': [{'name': 'ssl', 'now': 'on', 'becomes': None}]})
        self.assertEqual((disable['before'], disable['after']), ("ssl = 'on'\n", 'ssl = (default)\n'))
        self.assertEqual(pgssl.settings_diff({'settings': []}), [])


class FailureMessage(unittest.TestCase):
    def test_message_and_fix(self):
        cli = sys.modules['ansible.module_utils.pgssl_cli']
        self.assertEqual(cli.failure_message('enable', 2, {'error': {'message': 'bad hba', 'fix': 'edit it'}}, ''), 'bad hba\nFix: edit it')
        self.assertEqual(cli.failure_message('enable', 1, None, 'boom\n'), 'pgssl enable exited 1 without a JSON report on stdout: boom')
        self.assertIn('SSL_OFF: ssl is off', cli.failure_message('enable', 3, {'compliance': {'findings': [{'id': 'SSL_OFF', 'severity': 'error', 'message': 'ssl is off'}, {'id': 'X', 'severity': 'info', 'message': 'x'}]}}, ''))


if __name__ == '__main__':
    unittest.main()
