#!/usr/bin/python
# -*- coding: utf-8 -*-
# MIT License (see the repository's package.json).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pgssl
short_description: TLS on, off or renewed on a local PostgreSQL server with pgssl
description:
  - Runs C(pgssl enable), C(pgssl disable) or C(pgssl rotate) with C(--yes --json) on the
    database host and reports what pgssl reports.
  - C(changed) is pgssl's own C(changed) (the server was left changed). In check mode
    the command runs with C(--dry-run) and C(changed) says whether the plan would
    change anything (a certificate to issue or install, a setting, a pg_hba.conf line).
  - Fails when pgssl exits non-zero, with pgssl's error message (and fix) as C(msg).
  - In diff mode the pg_hba.conf lines pgssl changes (or would change) are the task's
    diff (before/after of each file), and the settings as a second entry.
options:
  bin: {description: the pgssl executable on the host, type: path, required: true}
  state: {description: enabled, disabled or rotated, type: str, choices: [enabled, disabled, rotated], default: enabled}
  conninfo: {description: 'libpq conninfo string or URI (pgssl -d); default: the local socket', type: str}
  state_dir: {description: 'pgssl state folder (PGSSL_STATE_DIR: CA, journals); default: pgssl''s own choice', type: path}
  extra_args: {description: more pgssl arguments, appended as given, type: list, elements: str, default: []}
  # The rest map one to one to pgssl's flags (pgssl enable/disable/rotate --help).
'''

RETURN = r'''
report: {description: pgssl's --json document, type: dict, returned: when pgssl printed one}
rc: {description: pgssl's exit code, type: int, returned: always}
command: {description: the argv that ran, type: list, returned: always}
'''

import io
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pgssl_cli import failure_message, run_pgssl

# option → (pgssl flag, kind, the states it belongs to). kind: bool (flag alone),
# value (flag VALUE), list (flag VALUE per item). pgssl itself checks every value
# (src/commands/optionRules.ts); this table only spells the flags.
ENABLE, DISABLE, ROTATE = 'enabled', 'disabled', 'rotated'
FLAGS = {
    'san': ('--san', 'list', (ENABLE, ROTATE)),
    'days': ('--days', 'value', (ENABLE, ROTATE)),
    'key_type': ('--key-type', 'value', (ENABLE, ROTATE)),
    'rsa_bits': ('--rsa-bits', 'value', (ENABLE, ROTATE)),
    'cert_dir': ('--cert-dir', 'value', (ENABLE, ROTATE)),
    'cert_file': ('--cert-file', 'value', (ENABLE, ROTATE)),
    'key_file': ('--key-file', 'value', (ENABLE, ROTATE)),
    'ca_file': ('--ca-file', 'value', (ENABLE, ROTATE)),
    'ca_cert': ('--ca-cert', 'value', (ENABLE, ROTATE)),
    'ca_key': ('--ca-key', 'value', (ENABLE, ROTATE)),
    'allow_name_mismatch': ('--allow-name-mismatch', 'bool', (ENABLE, ROTATE)),
    'self_signed': ('--self-signed', 'bool', (ENABLE,)),
    'min_tls': ('--min-tls', 'value', (ENABLE,)),
    'keep_ciphers': ('--keep-ciphers', 'bool', (ENABLE,)),
    'terminate_non_ssl': ('--terminate-non-ssl', 'bool', (ENABLE,)),
    'require_ready': ('--require-ready', 'bool', (ENABLE,)),
    'walsender_wait': ('--walsender-wait', 'value', (ENABLE,)),
    'skip_replication': ('--skip-replication', 'bool', (ENABLE,)),
    'only_db': ('--only-db', 'list', (ENABLE,)),
    'only_user': ('--only-user', 'list', (ENABLE,)),
    'only_address': ('--only-address', 'list', (ENABLE,)),
    'include_loopback': ('--include-loopback', 'bool', (ENABLE, DISABLE)),
    'keep_ssl': ('--keep-ssl', 'bool', (DISABLE,)),
    'all_rules': ('--all-rules', 'bool', (DISABLE,)),
    'if_expiring_within': ('--if-expiring-within', 'value', (ROTATE,)),
}
COMMANDS = {ENABLE: 'enable', DISABLE: 'disable', ROTATE: 'rotate'}
SPEC_TYPES = {'bool': 'bool', 'value': 'str', 'list': 'list'}
# Numbers as numbers (no str-conversion warning for `pgssl_days: 90`); min_tls as
# written, since YAML reads an unquoted 1.2 as a float.
VALUE_TYPES = {'days': 'int', 'rsa_bits': 'int', 'walsender_wait': 'int', 'if_expiring_within': 'int', 'min_tls': 'raw'}


def argument_spec():
    spec = dict(
        bin=dict(type='path', required=True),
        state=dict(type='str', choices=list(COMMANDS), default=ENABLE),
        conninfo=dict(type='str'),
        state_dir=dict(type='path'),
        extra_args=dict(type='list', elements='str', default=[]),
    )
    for name, (_flag, kind, _states) in FLAGS.items():
        spec[name] = dict(type='list', elements='str') if kind == 'list' else dict(type=VALUE_TYPES.get(name, SPEC_TYPES[kind]))
    return spec


def build_argv(params, check_mode):
    """pgssl's argv for the state, and the options given that the state has no use for."""
    state = params['state']
    argv = [params['bin'], COMMANDS[state], '--yes', '--json']
    if check_mode:
        argv.append('--dry-run')
    if params.get('conninfo'):
        argv += ['-d', params['conninfo']]
    ignored = []
    for name, (flag, kind, states) in FLAGS.items():
        value = params.get(name)
        # false and [] mean "not given", like an absent flag.
        if value is None or value is False or value == []:
            continue
        if state not in states:
            ignored.append(name)
            continue
        if kind == 'bool':
            argv.append(flag)
        elif kind == 'list':
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv + list(params.get('extra_args') or []), ignored


def would_change(report):
    """Whether a --dry-run plan changes anything. pgssl sets changed=false after
    every dry run (nothing was left changed) and lists every step as planned, so
    the plan's own parts say it: a certificate to issue or install, a setting to
    change, a pg_hba.conf line to rewrite, ssl=off to write (disable).
    With --cert-file the action is install-files even when the files equal those
    in force, and a dry run lists no files: that case counts as a change (check
    mode may say "changed" where the real run changes nothing, never the reverse)."""
    certificate = report.get('certificate') or {}
    return bool(
        (report.get('hba') or {}).get('changes')
        or report.get('settings')
        or certificate.get('action') not in (None, 'keep')
        or report.get('sslOffExplicitly')
    )


def split_lines(text):
    return io.StringIO(text, newline='').readlines()


def line_ending(line):
    return line[len(line.rstrip('\r\n')):]


def hba_diffs(report, check_mode):
    """Ansible diffs (before/after per file) from the report's line changes: each
    names the file, the line number and both texts. After a run the file on disk
    is the after side; in check mode it is the before side. A file that cannot be
    read, or no longer holds the expected line, gets pgssl's unified diff instead."""
    hba = report.get('hba') or {}
    by_file = {}
    for change in hba.get('changes') or []:
        by_file.setdefault(change['file'], []).append(change)
    diffs = []
    for path, changes in sorted(by_file.items()):
        try:
            with io.open(path, 'r', encoding='utf-8', newline='') as handle:
                lines = split_lines(handle.read())
        except (IOError, OSError, UnicodeDecodeError):
            return [{'prepared': hba.get('diff', '')}]
        on_disk, other = ('before', 'after') if check_mode else ('after', 'before')
        other_lines = list(lines)
        for change in changes:
            index = change['line'] - 1
            if index >= len(lines) or lines[index].rstrip('\r\n') != change[on_disk]:
                return [{'prepared': hba.get('diff', '')}]
            other_lines[index] = change[other] + line_ending(lines[index])
        sides = {on_disk: ''.join(lines), other: ''.join(other_lines)}
        diffs.append({'before_header': path, 'after_header': path, 'before': sides['before'], 'after': sides['after']})
    return diffs


def settings_diff(report):
    """The ALTER SYSTEMs as a before/after list (enable/rotate: before/after;
    disable: now/becomes, where null is RESET to the server's default)."""
    settings = report.get('settings') or []
    if not settings:
        return []

    def side(setting, key, fallback):
        value = setting.get(key, setting.get(fallback))
        return '%s = %s\n' % (setting['name'], '(default)' if value is None else repr(value))
    before = ''.join(side(s, 'before', 'now') for s in settings)
    after = ''.join(side(s, 'after', 'becomes') for s in settings)
    return [{'before_header': 'settings (postgresql.auto.conf)', 'after_header': 'settings (postgresql.auto.conf)', 'before': before, 'after': after}]


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if not os.access(params['bin'], os.X_OK):
        module.fail_json(msg='pgssl is not an executable file at %s (pgssl_bin, or the install step): install pgssl there, or set pgssl_bin to the pgssl the host has.' % params['bin'], command=[])
    argv, ignored = build_argv(params, module.check_mode)
    for name in ignored:
        module.warn('%s has no effect with state %s (pgssl %s has no such flag); it was not passed.' % (name, params['state'], COMMANDS[params['state']]))

    rc, report, stderr = run_pgssl(module, argv, params.get('state_dir'))
    result = dict(rc=rc, command=argv, report=report, stderr=stderr)
    if report is not None and module._diff:
        result['diff'] = hba_diffs(report, module.check_mode) + settings_diff(report)
    if rc != 0 or report is None:
        # A failed run is undone by pgssl; its report says whether anything stayed changed.
        result['changed'] = bool((report or {}).get('changed'))
        module.fail_json(msg=failure_message(COMMANDS[params['state']], rc, report, stderr), **result)
    result['changed'] = would_change(report) if module.check_mode else bool(report.get('changed'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
