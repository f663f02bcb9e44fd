/** The rollback merge and the general diff: table-driven, byte for byte (CRLF, no final newline). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { undoOwnEdits, unifiedDiffOf } from '../../src/files/lineMerge.js';

const original = 'local all all peer\nhost all all 0.0.0.0/0 md5\nhost replication all 10.0.0.0/8 md5\n';
const written = 'local all all peer\nhostssl all all 0.0.0.0/0 md5\nhostssl replication all 10.0.0.0/8 md5\n';

describe('undoOwnEdits: take back pgssl\'s lines, keep the DBA\'s', () => {
  const cases: [string, string, string | undefined][] = [
    ['nothing changed since', written, original],
    ['a line appended', written + 'host all bob 192.0.2.7/32 reject\n', original + 'host all bob 192.0.2.7/32 reject\n'],
    ['a line inserted at the top', '# managed by Ansible\n' + written, '# managed by Ansible\n' + original],
    ['a line between two of pgssl\'s', 'local all all peer\nhostssl all all 0.0.0.0/0 md5\nhost all eve 192.0.2.9/32 reject\nhostssl replication all 10.0.0.0/8 md5\n', 'local all all peer\nhost all all 0.0.0.0/0 md5\nhost all eve 192.0.2.9/32 reject\nhost replication all 10.0.0.0/8 md5\n'],
    ['an unrelated line removed', 'hostssl all all 0.0.0.0/0 md5\nhostssl replication all 10.0.0.0/8 md5\n', 'host all all 0.0.0.0/0 md5\nhost replication all 10.0.0.0/8 md5\n'],
    ['pgssl\'s own line edited by the DBA: no safe merge', 'local all all peer\nhostssl all all 0.0.0.0/0 scram-sha-256\nhostssl replication all 10.0.0.0/8 md5\n', undefined],
    ['pgssl\'s own line deleted by the DBA: no safe merge', 'local all all peer\nhostssl replication all 10.0.0.0/8 md5\n', undefined],
  ];
  for (const [name, current, expected] of cases) it(name, () => assert.equal(undoOwnEdits(written, original, current), expected));

  it('keeps CRLF and a missing final newline byte for byte', () => {
    const o = 'local all all peer\r\nhost all all 0.0.0.0/0 md5';
    const w = 'local all all peer\r\nhostssl all all 0.0.0.0/0 md5';
    assert.equal(undoOwnEdits(w, o, '# dba\r\n' + w), '# dba\r\n' + o);
  });
});

describe('unifiedDiffOf', () => {
  it('shows added lines with context, and nothing for equal texts', () => {
    assert.equal(unifiedDiffOf('f', written, written), '');
    const diff = unifiedDiffOf('f', written, written + 'host all bob 192.0.2.7/32 reject\n');
    assert.equal(diff, '--- f\n+++ f\n@@ -1,3 +1,4 @@\n local all all peer\n hostssl all all 0.0.0.0/0 md5\n hostssl replication all 10.0.0.0/8 md5\n+host all bob 192.0.2.7/32 reject\n');
  });
  it('marks a last line without a newline as diff(1) does', () => {
    assert.equal(unifiedDiffOf('f', 'a\nb', 'a\nc'), '--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n');
  });
});
