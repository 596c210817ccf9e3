/**
 * The Python kernel: the container's main process (PID 1, `python3 -u -c KERNEL_SOURCE`) and a worker it forks.
 *
 * Protocol over the container's stdin/stdout (attach stream, no TTY, so Docker frames stdout and stderr apart):
 *   request  (one JSON line on stdin):  {"id": str, "code": str, "max_output": int, "timeout_ms"?: int}
 *   reply    (one JSON line on stdout): {"id", "output", "truncated", "output_bytes", "error", "interrupted",
 *                                        "files", "figures", "seconds"}
 * The first line on stdout is {"ready": true, "python": "3.x.y"}.
 *
 * The protocol channel is out of reach of user code. Only the supervisor (PID 1) holds stdin and stdout; it makes
 * itself non-dumpable, so a process of the same user cannot open /proc/1/fd/* or ptrace it, and as PID 1 it cannot
 * be killed from inside. User code runs in the worker, a forked child with fd 0 on /dev/null, fds 1 and 2 on one
 * output pipe (print(), tracebacks, warnings and subprocess output in the order they were written), and two private
 * pipes to the supervisor: commands in (length-prefixed code), a small status line out. The supervisor builds every
 * reply itself from the output pipe it reads (bounded head + tail), and checks the worker's status line for size and
 * types. The hand-over costs little: while calls come in quick succession both processes run on one CPU (no wake-up
 * of another CPU for a short cell), and the per-call checks read files opened once.
 *
 * Cells run in one persistent globals dict; a trailing expression is evaluated and its repr printed, like a notebook
 * cell. SIGINT to the container reaches the supervisor, which passes it to the worker: KeyboardInterrupt in the cell,
 * state kept. Forked children that fall out of a cell exit at once. The supervisor stops by itself when its stdin
 * closes (the owning process went away, even during a busy cell), when a cell outlives its `timeout_ms` by far
 * (interrupt at +5 s, kill at +15 s: nobody is waiting any more), after HARMONIA_IDLE_EXIT idle seconds, and when the
 * worker dies (with the worker's exit code, so the host can tell why).
 */
export const KERNEL_SOURCE = String.raw`
import ast, builtins, ctypes, json, linecache, os, select, signal, struct, sys, time, traceback, warnings

SUPERVISOR_PID = os.getpid()
with open('/proc/self/cmdline', 'rb') as _f:
    MY_CMDLINE = _f.read()
DATA_DIR = '/mnt/data'
IDLE_EXIT = float(os.environ.get('HARMONIA_IDLE_EXIT') or 0)
MAX_LISTED_FILES = 200
MAX_STATUS_LINE = 1 << 16


try:
    LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    LIBC = None
CMD_HEADER = struct.Struct('<IIB')  # supervisor -> worker: code length, cell number, reap flag; then the code


def set_dumpable(on):
    try:
        LIBC.prctl(4, 1 if on else 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:
        pass


set_dumpable(False)
req_fd = os.dup(0)
reply_fd = os.dup(1)
null_fd = os.open(os.devnull, os.O_RDWR)
os.dup2(null_fd, 0)
os.dup2(null_fd, 1)
os.close(null_fd)
for fd in (req_fd, reply_fd):
    os.set_inheritable(fd, False)
try:
    os.chdir(DATA_DIR)
except OSError:
    pass


# ---------------------------------------------------------------- the worker: runs user code, holds no protocol fd
def worker_main(cmd_r, status_w, out_w):
    for fd in (req_fd, reply_fd, *(PIDS_FDS or ())):
        os.close(fd)
    set_dumpable(True)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    os.close(out_w)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sys.stdout = open(1, 'w', encoding='utf-8', errors='replace', buffering=1, closefd=False)
    sys.stderr = open(2, 'w', encoding='utf-8', errors='replace', buffering=1, closefd=False)
    sys.__stdout__ = sys.stdout
    sys.__stderr__ = sys.stderr
    sys.stdin = open(0, 'r', closefd=False)
    sys.__stdin__ = sys.stdin
    warnings.filterwarnings('ignore', message='.*non-interactive.*cannot be shown')
    warnings.filterwarnings('ignore', message='.*is non-interactive, and thus cannot be shown')
    worker_pid = os.getpid()

    def display(*objs):
        # Notebook code often calls display(); show each value's repr like a cell result.
        for obj in objs:
            print(repr(obj))

    user_globals = {'__name__': '__main__', '__builtins__': builtins, 'display': display}
    state = {'cells': 0}

    def save_figures():
        plt = sys.modules.get('matplotlib.pyplot')
        if plt is None:
            return []
        saved = []
        for num in list(plt.get_fignums()):
            fig = plt.figure(num)
            path = os.path.join(DATA_DIR, 'figure-%d-%d.png' % (state['cells'], num))
            try:
                fig.savefig(path, format='png', dpi=100, bbox_inches='tight')
                saved.append(path)
            except Exception as exc:
                sys.stderr.write('could not save figure %d: %s\n' % (num, exc))
            plt.close(fig)
        return saved

    def run_cell(code):
        state['cells'] += 1
        filename = '<cell-%d>' % state['cells']
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            tree = ast.parse(code, filename, 'exec')
        except SyntaxError as exc:
            raise exc.with_traceback(None) from None
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, 'exec'), user_globals)
        if last is not None:
            value = eval(compile(last, filename, 'eval'), user_globals)
            if value is not None:
                user_globals['_'] = value
                print(repr(value))

    def format_exception(exc):
        tb = exc.__traceback__
        # Drop the kernel's own frames: the model should see only its cell and the libraries it called.
        while tb is not None and tb.tb_frame.f_code.co_filename == '<string>':
            tb = tb.tb_next
        return ''.join(traceback.format_exception(type(exc), exc, tb))

    pending = b''
    while True:
        try:
            while len(pending) < CMD_HEADER.size or len(pending) < CMD_HEADER.size + CMD_HEADER.unpack_from(pending)[0]:
                chunk = os.read(cmd_r, 1 << 16)
                if not chunk:
                    os._exit(0)
                pending += chunk
            size, seq, reap_first = CMD_HEADER.unpack_from(pending)
            end = CMD_HEADER.size + size
            code = pending[CMD_HEADER.size:end].decode('utf-8', 'surrogatepass')
            pending = pending[end:]
            while reap_first:
                try:
                    if os.waitpid(-1, os.WNOHANG) == (0, 0):
                        break
                except ChildProcessError:
                    break
            error = None
            interrupted = False
            try:
                try:
                    run_cell(code)
                finally:
                    if os.getpid() != worker_pid:
                        os._exit(0)
            except KeyboardInterrupt as exc:
                interrupted = True
                error = 'KeyboardInterrupt'
                sys.stderr.write(format_exception(exc))
            except BaseException as exc:
                error = type(exc).__name__
                sys.stderr.write(format_exception(exc))
            figures = save_figures()
            sys.stdout.flush()
            sys.stderr.flush()
            status = {'seq': seq, 'error': error, 'interrupted': interrupted, 'figures': figures}
            status = (json.dumps(status) + '\n').encode()
            while status:
                status = status[os.write(status_w, status):]
        except KeyboardInterrupt:
            # An interrupt between cells (the host timed out just as a cell finished): report nothing, go on.
            continue


# ---------------------------------------------------------------- the supervisor: PID 1, the only protocol holder
class Capture:
    def __init__(self):
        self.reset(20000)

    def reset(self, limit):
        self.head_limit = limit * 2 // 3
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = b''
        self.total = 0

    def feed(self, data):
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail = (self.tail + data)[-self.tail_limit:] if self.tail_limit else b''

    def text(self):
        head, tail, total = bytes(self.head), self.tail, self.total
        kept = len(head) + len(tail)
        if total <= kept:
            return (head + tail).decode('utf-8', 'replace'), False, total
        marker = '\n[... %d bytes of output truncated ...]\n' % (total - kept)
        return head.decode('utf-8', 'replace') + marker + tail.decode('utf-8', 'replace'), True, total


capture = Capture()
out_r, out_w = os.pipe()
os.set_blocking(out_r, False)
worker = {'pid': 0, 'cmd': -1, 'status': -1}


def start_worker():
    cmd_r, cmd_w = os.pipe()
    status_r, status_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(cmd_w)
            os.close(status_r)
            os.close(out_r)
            worker_main(cmd_r, status_w, out_w)
        finally:
            os._exit(1)
    os.close(cmd_r)
    os.close(status_w)
    os.set_blocking(status_r, False)
    worker.update(pid=pid, cmd=cmd_w, status=status_r)


def send(obj):
    data = (json.dumps(obj) + '\n').encode('utf-8')
    while data:
        data = data[os.write(reply_fd, data):]


def drain_output():
    while True:
        try:
            data = os.read(out_r, 1 << 16)
        except BlockingIOError:
            return
        if not data:
            return
        capture.feed(data)


def snapshot():
    """(mtime, size) of the files under /mnt/data, in sorted walk order; links to folders are not followed."""
    found = {}
    stack = [DATA_DIR]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            try:
                if e.is_dir():
                    if not e.is_symlink():
                        subdirs.append(e.path)
                    continue
                st = e.stat()
            except OSError:
                continue
            found[e.path] = (st.st_mtime_ns, st.st_size)
            if len(found) >= 5000:
                return found
        stack.extend(reversed(subdirs))
    return found


def open_pids_files():
    # Opened once: opening a cgroup file costs far more than reading it again (pread on the open fd).
    for base in ('/sys/fs/cgroup/pids/', '/sys/fs/cgroup/'):
        try:
            return os.open(base + 'pids.current', os.O_RDONLY), os.open(base + 'pids.max', os.O_RDONLY)
        except OSError:
            continue
    return None


PIDS_FDS = open_pids_files()


def pids_count():
    """(processes and threads in the container, their limit or None), or None when the cgroup does not say."""
    if PIDS_FDS is None:
        return None
    try:
        current = int(os.pread(PIDS_FDS[0], 64, 0))
        limit = os.pread(PIDS_FDS[1], 64, 0).strip()
        return current, None if limit == b'max' else int(limit)
    except (OSError, ValueError):
        return None


def fork_bomb_suspected(error):
    if error == 'BlockingIOError':
        return True
    pids = pids_count()
    if pids is not None:
        current, limit = pids
        if limit is not None and current >= limit - 8:
            return True
        if current < 18:
            return False  # too few tasks for 16 forked copies: skip the scan of /proc
    return len(kernel_copies()) >= 16


def kernel_copies():
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) in (SUPERVISOR_PID, worker['pid']):
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                if f.read() == MY_CMDLINE:
                    found.append(int(name))
        except OSError:
            pass
    return found


def stop_fork_bomb():
    # A cell left the process table (nearly) full of forked copies of the worker, a fork bomb: freeze them so none
    # can fork again, then kill them all. Processes that exec'd something else are left alone. A copy can be in the
    # middle of fork() when it is frozen, so repeat until a scan finds none (bounded: 3 s).
    killed = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        stopped = set()
        while True:
            fresh = [pid for pid in kernel_copies() if pid not in stopped]
            if not fresh:
                break
            for pid in fresh:
                try:
                    os.kill(pid, signal.SIGSTOP)
                except OSError:
                    pass
                stopped.add(pid)
        if not stopped:
            break
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        killed += len(stopped)
        children_changed[0] = True
        reap()
        time.sleep(0.02)
    children_changed[0] = True
    reap()
    return killed


children_changed = [True]


def reap():
    """Reaps every exited child (PID 1 adopts orphans); exits with the worker's status if the worker is gone."""
    if not children_changed[0]:
        return
    children_changed[0] = False
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == worker['pid']:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def status_line(buf, seq):
    """The worker's status for cell number seq, checked: a dict with the expected types, or None."""
    try:
        st = json.loads(buf)
    except ValueError:
        return None
    if not isinstance(st, dict) or st.get('seq') != seq:
        return None
    error = st.get('error')
    figures = st.get('figures')
    if error is not None and not (isinstance(error, str) and len(error) <= 200):
        return None
    if not isinstance(st.get('interrupted'), bool) or not isinstance(figures, list):
        return None
    figures = [f for f in figures[:100] if isinstance(f, str) and f.startswith(DATA_DIR + '/') and len(f) < 4096]
    return {'error': error, 'interrupted': st['interrupted'], 'figures': figures}


def on_sigint(signum, frame):
    if current['request'] is not None and worker['pid']:
        try:
            os.kill(worker['pid'], signal.SIGINT)
        except OSError:
            pass


current = {'request': None}
signal.signal(signal.SIGINT, on_sigint)
signal.signal(signal.SIGCHLD, lambda *_: children_changed.__setitem__(0, True))


def worker_died():
    # The worker's status pipe closed: it exited or was killed (out of memory, say). Exit with its status, so
    # Docker records it and the host can say why the state was lost.
    try:
        _, status = os.waitpid(worker['pid'], 0)
        code = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        code = 1
    os._exit(code if code >= 0 else 128 - code)


def kill_worker_and_exit(code):
    try:
        os.kill(worker['pid'], signal.SIGKILL)
    except OSError:
        pass
    os._exit(code)


class CpuPin:
    """
    Keeps the supervisor and the worker on one CPU while calls come in quick succession: a short cell is then handed
    over and back with two switches on that CPU instead of two wake-ups of another CPU, which may be idle (an
    inter-processor interrupt each, and in a virtual machine an exit to the hypervisor). The pin is set at the start
    of a cell on the CPU the supervisor runs on, and kept between cells (setting it costs more than the hand-over);
    both get every CPU back, every thread of the worker included, when a cell runs longer than MS milliseconds and
    after IDLE_MS milliseconds without a call.
    """

    MS = 2
    IDLE_MS = 1000

    def __init__(self):
        try:
            self.all = os.sched_getaffinity(0)
            self.getcpu = LIBC.sched_getcpu
            self.enabled = len(self.all) > 1
        except Exception:
            self.all, self.enabled = None, False
        self.cpu = None

    def pin(self):
        """Pins both to the current CPU; True when they are pinned."""
        if not self.enabled:
            return False
        try:
            cpu = self.getcpu()
            if cpu != self.cpu:
                if cpu not in self.all:
                    return False
                self.cpu = None
                os.sched_setaffinity(0, (cpu,))
                os.sched_setaffinity(worker['pid'], (cpu,))
                self.cpu = cpu
            return True
        except OSError:
            self.enabled = False  # not allowed here: run unpinned
            self.unpin(force=True)
            return False

    def unpin(self, force=False):
        if self.cpu is None and not force:
            return
        self.cpu = None
        try:
            os.sched_setaffinity(0, self.all)
            tasks = os.listdir('/proc/%d/task' % worker['pid'])
        except OSError:
            return
        for task in tasks:
            try:
                os.sched_setaffinity(int(task), self.all)
            except (OSError, ValueError):
                pass


cpu_pin = CpuPin()


def run_request(request):
    """Runs one cell in the worker while still reading stdin (for its end) and the output pipe."""
    global req_pending
    started = time.monotonic()
    drain_output()
    try:
        limit = int(request.get('max_output') or 20000)
    except (TypeError, ValueError):
        limit = 20000
    capture.reset(max(0, min(limit, 64 << 20)))
    before = snapshot()
    current['request'] = request
    code = request.get('code', '')
    seq = worker['seq'] = worker.get('seq', 0) + 1
    code = code.encode('utf-8', 'surrogatepass') if isinstance(code, str) else b''
    cmd = CMD_HEADER.pack(len(code), seq, worker.pop('reap', False)) + code
    pinned = cpu_pin.pin()
    while cmd:
        cmd = cmd[os.write(worker['cmd'], cmd):]
    timeout_ms = request.get('timeout_ms')
    deadline = started + timeout_ms / 1000 if isinstance(timeout_ms, (int, float)) and timeout_ms > 0 else None
    interrupted_by_us = False
    buf = b''
    status = None
    while status is None:
        if deadline is not None:
            now = time.monotonic()
            if now > deadline + 15:
                kill_worker_and_exit(137)
            if now > deadline + 5 and not interrupted_by_us:
                interrupted_by_us = True
                on_sigint(None, None)
        events = CELL_POLL.poll(CpuPin.MS if pinned else 1000)
        if pinned and not events:
            pinned = False  # a long cell: give the worker (and its threads) every CPU again
            cpu_pin.unpin()
            continue
        reap()
        status_ready = False
        for fd, _ in events:
            if fd == out_r:
                drain_output()
            elif fd == req_fd:
                chunk = os.read(req_fd, 1 << 16)
                if not chunk:
                    kill_worker_and_exit(0)  # the owner went away: nobody will read the answer
                req_pending += chunk
            else:
                status_ready = True
        if status_ready:
            try:
                chunk = os.read(worker['status'], MAX_STATUS_LINE)
            except BlockingIOError:
                chunk = b''
                continue
            if not chunk:
                worker_died()
            buf += chunk
            # The cell can write to this pipe too: lines that are not this cell's well-formed status are dropped,
            # and so is a line that grows past the limit.
            while b'\n' in buf and status is None:
                line, buf = buf.split(b'\n', 1)
                status = status_line(line, seq)
            if len(buf) > MAX_STATUS_LINE:
                buf = b''
    current['request'] = None
    if fork_bomb_suspected(status['error']):
        killed = stop_fork_bomb()
        if killed:
            worker['reap'] = True  # the worker's own killed children: it reaps them before the next cell
            capture.feed(('[sandbox: the process limit was reached; %d forked copies of the kernel were killed]\n' % killed).encode())
    drain_output()
    after = snapshot()
    changed = [p for p, st in after.items() if before.get(p) != st]
    output, truncated, size = capture.text()
    return {
        'id': request.get('id'),
        'output': output,
        'truncated': truncated,
        'output_bytes': size,
        'error': status['error'],
        'interrupted': status['interrupted'],
        'files': changed[:MAX_LISTED_FILES],
        'files_total': len(after),
        'figures': status['figures'],
        'seconds': time.monotonic() - started,
    }


req_pending = b''


def read_request():
    """Next request line, or None at end of input or after HARMONIA_IDLE_EXIT idle seconds."""
    global req_pending
    idle_since = time.monotonic()
    while True:
        nl = req_pending.find(b'\n')
        if nl >= 0:
            line, req_pending = req_pending[:nl], req_pending[nl + 1:]
            if line.strip():
                return line
            continue
        events = IDLE_POLL.poll(CpuPin.IDLE_MS)
        if not events:
            cpu_pin.unpin()
        reap()
        got_request = False
        for fd, _ in events:
            if fd == out_r:
                drain_output()
            else:
                got_request = True
        if got_request:
            chunk = os.read(req_fd, 1 << 16)
            if not chunk:
                return None
            req_pending += chunk
            idle_since = time.monotonic()
        elif IDLE_EXIT > 0 and time.monotonic() - idle_since > IDLE_EXIT:
            return None


CELL_POLL = select.poll()
IDLE_POLL = select.poll()


def main():
    start_worker()
    os.close(out_w)
    for fd in (worker['status'], out_r, req_fd):
        CELL_POLL.register(fd, select.POLLIN)
    for fd in (req_fd, out_r):
        IDLE_POLL.register(fd, select.POLLIN)
    send({'ready': True, 'python': sys.version.split()[0]})
    while True:
        line = read_request()
        if line is None:
            kill_worker_and_exit(0)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError('a request is a JSON object')
        except ValueError as exc:
            send({'id': None, 'output': 'bad request: %s' % exc, 'error': 'ProtocolError'})
            continue
        send(run_request(request))


main()
`;
