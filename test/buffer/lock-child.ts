// Child process of the lock race test: a lock taker driven over stdin. `acquire DIR` tries to take
// the directory and answers `won`, `locked` or `error: …`; `release` lets go of a lock it holds.
import { createInterface } from 'node:readline';
import { DirectoryLock } from '../../internal/buffer/lock';
import { BufferLockedError } from '../../internal/buffer/errors';

let held: DirectoryLock | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, dir] = line.split(' ');
  if (command === 'release') {
    held?.release();
    held = undefined;
    console.log('released');
    return;
  }
  try {
    held = DirectoryLock.acquire(dir);
    console.log('won');
  } catch (err) {
    console.log(err instanceof BufferLockedError ? 'locked' : `error: ${String(err)}`);
  }
});
console.log('ready');
