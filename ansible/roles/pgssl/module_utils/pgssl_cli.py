# -*- coding: utf-8 -*-
"""Runs the pgssl CLI for the role's modules: one --json document on stdout,
human text on stderr, exit codes 0 ok, 1 operational, 2 bad usage/input,
3 check failed. Shared by library/pgssl.py and library/pgssl_cert.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


def run_pgssl(module, argv, state_dir=None):
    """Runs pgssl; returns (rc, report or None, stderr). Never raises for a
    non-zero exit: the caller turns the report into changed/failed."""
    environ = {'NO_COLOR': '1'}
    if state_dir:
        environ['PGSSL_STATE_DIR'] = state_dir
    # stdin is not a terminal here, so pgssl is non-interactive anyway; --yes
    # (added by the callers that change a server) answers the confirmations.
    rc, stdout, stderr = module.run_command(argv, environ_update=environ, check_rc=False)
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        report = None
    return rc, report, stderr


def failure_message(command, rc, report, stderr):
    """pgssl's own error message and fix when the report carries them, else the
    tail of its stderr: the task's msg on a failure."""
    error = (report or {}).get('error') or {}
    if error.get('message'):
        message = error['message']
        if error.get('fix'):
            message += '\nFix: ' + error['fix']
        return message
    # enable exits 3 without an error when it finished but the server is not
    # compliant afterwards: the findings are the reason.
    findings = ((report or {}).get('compliance') or {}).get('findings') or []
    problems = ['%s: %s' % (f.get('id'), f.get('message')) for f in findings if f.get('severity') == 'error']
    if problems:
        return 'pgssl %s exited %s, not compliant afterwards:\n' % (command, rc) + '\n'.join(problems)
    tail = '\n'.join(stderr.strip().splitlines()[-8:])
    if report is None:
        return 'pgssl %s exited %s without a JSON report on stdout: %s' % (command, rc, tail or '(no output)')
    return 'pgssl %s exited %s: %s' % (command, rc, tail or '(no message)')
