#!/usr/bin/python
# -*- coding: utf-8 -*-
# MIT License (see the repository's package.json).

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pgssl_cert
short_description: The two halves of the CSR flow (pgssl cert request, pgssl ca sign)
description:
  - C(action=request), on the database host - C(pgssl cert request --out-dir DIR --json)
    writes DIR/server.key (0600, never leaves the host) and DIR/server.csr.
  - C(action=sign), delegated to the controller - C(pgssl ca sign CSR --dir CA_DIR --out FILE --json)
    issues the certificate (an existing valid FILE for the same key and names is kept - changed false).
  - C(changed) is pgssl's C(changed); a non-zero exit fails with pgssl's message.
  - Check mode runs nothing (neither command has a dry run) - it reports changed when
    the files the command would write are not there yet, which is all it can tell.
options:
  bin: {description: the pgssl executable, type: path, required: true}
  action: {description: request or sign, type: str, choices: [request, sign], required: true}
  conninfo: {description: 'request - libpq conninfo (pgssl -d); default: the local socket', type: str}
  state_dir: {description: PGSSL_STATE_DIR, type: path}
  out_dir: {description: 'request - where server.key and server.csr go', type: path}
  san: {description: 'request - more names for the request (--san)', type: list, elements: str, default: []}
  csr: {description: 'sign - the request file', type: path}
  ca_dir: {description: 'sign - the CA folder (pgssl ca init --dir)', type: path}
  out: {description: 'sign - the certificate file to write', type: path}
  days: {description: 'sign - validity in days (--days)', type: int}
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pgssl_cli import failure_message, run_pgssl

REQUIRED = {'request': ['out_dir'], 'sign': ['csr', 'ca_dir', 'out']}


def request_argv(params):
    argv = [params['bin'], 'cert', 'request', '--out-dir', params['out_dir'], '--json']
    if params.get('conninfo'):
        argv += ['-d', params['conninfo']]
    for name in params.get('san') or []:
        argv += ['--san', name]
    return argv, [os.path.join(params['out_dir'], 'server.key'), os.path.join(params['out_dir'], 'server.csr')]


def sign_argv(params):
    argv = [params['bin'], 'ca', 'sign', params['csr'], '--dir', params['ca_dir'], '--out', params['out'], '--json']
    if params.get('days') is not None:
        argv += ['--days', str(params['days'])]
    return argv, [params['out']]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bin=dict(type='path', required=True),
            action=dict(type='str', choices=list(REQUIRED), required=True),
            conninfo=dict(type='str'),
            state_dir=dict(type='path'),
            out_dir=dict(type='path'),
            san=dict(type='list', elements='str', default=[]),
            csr=dict(type='path'),
            ca_dir=dict(type='path'),
            out=dict(type='path'),
            days=dict(type='int'),
        ),
        required_if=[('action', action, names) for action, names in REQUIRED.items()],
        supports_check_mode=True,
    )
    params = module.params
    argv, writes = (request_argv if params['action'] == 'request' else sign_argv)(params)
    if module.check_mode:
        # No rc here: Ansible counts a result with an rc other than 0 (None too) as failed.
        module.exit_json(changed=not all(os.path.exists(path) for path in writes), command=argv, report=None)
    rc, report, stderr = run_pgssl(module, argv, params.get('state_dir'))
    command = ' '.join(argv[1:3])
    if rc != 0 or report is None:
        module.fail_json(msg=failure_message(command, rc, report, stderr), rc=rc, command=argv, report=report, stderr=stderr, changed=bool((report or {}).get('changed')))
    module.exit_json(changed=bool(report.get('changed')), rc=rc, command=argv, report=report)


if __name__ == '__main__':
    main()
