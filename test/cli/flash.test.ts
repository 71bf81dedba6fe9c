/**
 * `bitweave flash` (host/cli/flash.ts, host/build/flash.ts): every failure is one line and
 * exit 1 (unknown board, board without an open flow, missing bitstream, missing
 * openFPGALoader, no board on USB); the arguments openFPGALoader gets. No board is attached
 * here, so the real openFPGALoader really fails to find one.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBoard } from '../../host/boards';
import { explainFlashFailure, flashArgs } from '../../host/build/flash';
import { findTool } from '../../host/build/open-flow';
import { assertSuccess, assertUserError, bitweave, scratchDir } from '../helpers/run';

describe('bitweave flash', function () {
  this.timeout(120_000);
  const tmp = scratchDir('flash', true);
  const bit = path.join(tmp, 'design.bit');
  fs.writeFileSync(bit, Buffer.from([0xff, 0x00, 0x4c, 0x61]));
  const bw = (args: string[], env: NodeJS.ProcessEnv = {}) => bitweave(['flash', ...args], { env, timeout: 60_000 });

  /** A stand-in openFPGALoader that logs its arguments, prints `out` and exits with `code`. */
  function fakeLoader(name: string, out: string, code: number): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'openFPGALoader'), `#!/bin/sh\necho "$@" > "${dir}/args"\nprintf '%s\\n' "${out}" >&2\nexit ${code}\n`, { mode: 0o755 });
    return dir;
  }
  const withPath = (dir: string) => ({ PATH: `${dir}${path.delimiter}${process.env.PATH}` });

  it('an unknown board, a board without an open flow, a missing option: one line', () => {
    assertUserError(bw(['--board', 'no-such-board', '--bitstream', bit]), /unknown board 'no-such-board' \(known: .*ulx3s\)/);
    assertUserError(bw(['--board', 'aws-f1', '--bitstream', bit]), /board 'aws-f1' has no open bitstream flow \(boards with one: icebreaker, ulx3s\)/);
    assertUserError(bw(['--bitstream', bit]), /board/);
    assertUserError(bw(['--board', 'ulx3s', '--board', 'icebreaker']), /--board was given 2 times/);
  });

  it('a missing or empty bitstream: one line naming it (and how to build the default one)', () => {
    const nope = path.join(tmp, 'nope.bit');
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', nope]), new RegExp(`bitstream not found: ${nope.replace(/[.]/g, '\\.')}$`));
    const empty = path.join(tmp, 'empty.bit');
    fs.writeFileSync(empty, '');
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', empty]), /is empty/);
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', tmp]), /is not a regular file/);
    // the default bitstream of a board no build has made: a copy of the ULX3S under another name
    const boards = path.join(tmp, 'boards');
    fs.mkdirSync(path.join(boards, 'ulx3s'), { recursive: true });
    const desc = JSON.parse(fs.readFileSync(loadBoard('ulx3s').file, 'utf8'));
    fs.writeFileSync(path.join(boards, 'flash-test-board.json'), JSON.stringify({ ...desc, name: 'flash-test-board' }));
    assertUserError(bw(['--board', 'flash-test-board'], { BITWEAVE_BOARDS_DIR: boards }),
      /bitstream not found: \S+build\/bitstream\/flash-test-board\/bitweave_flash-test-board\.bit \(build it with: make bitstream BOARD=flash-test-board\)/);
  });

  it('openFPGALoader missing: one line saying how to install it', () => {
    const bare = path.join(tmp, 'bare');
    fs.mkdirSync(bare, { recursive: true });
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', bit], { PATH: bare }), /openFPGALoader not found \(make setup installs the Debian package openfpgaloader\)/);
  });

  it('no board attached: the real openFPGALoader fails to open the FTDI chip, reported as one line', function () {
    if (!findTool('openFPGALoader')) {
      console.log('      SKIPPED: openFPGALoader not found (make setup installs it)');
      return this.skip();
    }
    for (const board of ['ulx3s', 'icebreaker']) {
      const line = assertUserError(bw(['--board', board, '--bitstream', bit]), new RegExp(`no ${board} board found on USB \\(openFPGALoader: .+\\); connect it and try again`), board);
      assert.doesNotMatch(line, /at .*\.js:\d+/, 'no stack trace');
    }
  });

  it('passes the board and the bitstream to openFPGALoader (-b ulx3s, --write-flash; -b ice40_generic) and reports where it went', () => {
    const ok = fakeLoader('ok', 'Done', 0);
    const r = bw(['--board', 'ulx3s', '--bitstream', bit, '--json'], withPath(ok));
    assertSuccess(r);
    assert.equal(fs.readFileSync(path.join(ok, 'args'), 'utf8').trim(), `-b ulx3s ${bit}`);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.board, j.bitstream, j.memory], ['ulx3s', bit, 'sram']);
    assert.deepEqual(j.command, ['openFPGALoader', '-b', 'ulx3s', bit]);
    assertSuccess(bw(['--board', 'ulx3s', '--bitstream', bit, '--write-flash'], withPath(ok)));
    assert.equal(fs.readFileSync(path.join(ok, 'args'), 'utf8').trim(), `-b ulx3s --write-flash ${bit}`);
    const t = bw(['--board', 'icebreaker', '--bitstream', bit], withPath(ok));
    assertSuccess(t);
    assert.equal(fs.readFileSync(path.join(ok, 'args'), 'utf8').trim(), `-b ice40_generic ${bit}`);
    assert.match(t.stdout, /^flashed \S+design\.bit to the icebreaker's configuration flash in [\d.]+ s\n$/);
    assert.deepEqual(flashArgs(loadBoard('icebreaker'), 'x.bin', true), ['-b', 'ice40_generic', 'x.bin'], 'iCE40: always the flash, no --write-flash');
  });

  it("openFPGALoader's other failures: one line each (permission, an unknown board, anything else)", () => {
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', bit], withPath(fakeLoader('perm', 'unable to open ftdi device: -4 (usb_open() failed)', 1))), /cannot open ulx3s's USB device .*no permission\?/);
    assertUserError(bw(['--board', 'ulx3s', '--bitstream', bit], withPath(fakeLoader('other', 'Error: bitstream is for another FPGA', 1))), /openFPGALoader failed \(exit 1\): Error: bitstream is for another FPGA$/);
    const u = loadBoard('ulx3s');
    assert.match(explainFlashFailure(u, "Error: cannot find board 'ulx3s'", 1), /does not know the board 'ulx3s'/);
    assert.match(explainFlashFailure(u, '\n\n', 3), /openFPGALoader failed \(exit 3\): exit 3/);
  });
});
