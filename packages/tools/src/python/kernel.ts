/**
 * The Python kernel that runs as the container's main process (`python3 -u -c KERNEL_SOURCE`).
 *
 * Protocol over the container's stdin/stdout (attach stream, no TTY, so Docker frames stdout and stderr apart):
 *   request  (one JSON line on stdin):  {"id": str, "code": str, "max_output": int}
 *   reply    (one JSON line on stdout): {"id", "output", "truncated", "output_bytes", "error", "interrupted",
 *                                        "files", "figures", "seconds"}
 * The first line on stdout is {"ready": true, "python": "3.x.y"}.
 *
 * The kernel keeps the protocol channels on private duplicates of fds 0 and 1, points fd 0 at /dev/null (so `input()`
 * cannot eat requests) and points fds 1 and 2 at one pipe: print(), tracebacks, warnings and subprocess output all
 * land there in the order they were written. Cells run in one persistent globals dict; a
 * trailing expression is evaluated and its repr printed, like a notebook cell. SIGINT raises KeyboardInterrupt in the
 * cell (the host sends it on timeout) and the state survives. Forked children that fall out of a cell exit at once so
 * they never read requests. With HARMONIA_IDLE_EXIT set, the kernel exits after that many idle seconds.
 */
export const KERNEL_SOURCE = String.raw`
import ast, builtins, json, linecache, os, select, signal, sys, threading, time, traceback, warnings

MAIN_PID = os.getpid()
with open('/proc/self/cmdline', 'rb') as _f:
    MY_CMDLINE = _f.read()
DATA_DIR = '/mnt/data'
IDLE_EXIT = float(os.environ.get('HARMONIA_IDLE_EXIT') or 0)
MAX_LISTED_FILES = 200

req_fd = os.dup(0)
reply_fd = os.dup(1)
null_fd = os.open(os.devnull, os.O_RDONLY)
os.dup2(null_fd, 0)
os.close(null_fd)
# Cell output goes through a pipe that a pump thread drains into a bounded head + tail buffer: no disk is used, a
# full /tmp cannot swallow output, and endless printing costs memory only up to the limit.
out_r, out_w = os.pipe()
os.dup2(out_w, 1)
os.dup2(out_w, 2)
os.close(out_w)
os.set_blocking(out_r, False)
out_lock = threading.Lock()


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

    def drain(self):
        # Caller holds out_lock: take whatever is still in the pipe.
        while True:
            try:
                data = os.read(out_r, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                return
            self.feed(data)


capture = Capture()


def pump():
    while True:
        select.select([out_r], [], [])
        with out_lock:
            capture.drain()


threading.Thread(target=pump, name='harmonia-output-pump', daemon=True).start()
sys.stdout = open(1, 'w', encoding='utf-8', errors='replace', buffering=1, closefd=False)
sys.stderr = open(2, 'w', encoding='utf-8', errors='replace', buffering=1, closefd=False)
sys.__stdout__ = sys.stdout
sys.__stderr__ = sys.stderr
warnings.filterwarnings('ignore', message='.*non-interactive.*cannot be shown')
warnings.filterwarnings('ignore', message='.*is non-interactive, and thus cannot be shown')
try:
    os.chdir(DATA_DIR)
except OSError:
    pass

def display(*objs):
    # Notebook code often calls display(); show each value's repr like a cell result.
    for obj in objs:
        print(repr(obj))


user_globals = {'__name__': '__main__', '__builtins__': builtins, 'display': display}
cell_count = 0


def send(obj):
    data = (json.dumps(obj) + '\n').encode('utf-8')
    while data:
        n = os.write(reply_fd, data)
        data = data[n:]


def snapshot():
    found = {}
    for root, dirs, files in os.walk(DATA_DIR):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            found[path] = (st.st_mtime_ns, st.st_size)
            if len(found) >= 5000:
                return found
    return found


def save_figures():
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return []
    saved = []
    for num in list(plt.get_fignums()):
        fig = plt.figure(num)
        path = os.path.join(DATA_DIR, 'figure-%d-%d.png' % (cell_count, num))
        try:
            fig.savefig(path, format='png', dpi=100, bbox_inches='tight')
            saved.append(path)
        except Exception as exc:
            sys.stderr.write('could not save figure %d: %s\n' % (num, exc))
        plt.close(fig)
    return saved


def run_cell(code):
    global cell_count
    cell_count += 1
    filename = '<cell-%d>' % cell_count
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


def pids_near_limit():
    for base in ('/sys/fs/cgroup/pids/', '/sys/fs/cgroup/'):
        try:
            with open(base + 'pids.current') as f:
                current = int(f.read())
            with open(base + 'pids.max') as f:
                limit = f.read().strip()
        except (OSError, ValueError):
            continue
        return limit != 'max' and current >= int(limit) - 8
    return False


def kernel_copies():
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) in (1, MAIN_PID):
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                if f.read() == MY_CMDLINE:
                    found.append(int(name))
        except OSError:
            pass
    return found


def stop_fork_bomb():
    # A cell left the process table (nearly) full of forked copies of this kernel, a fork bomb: freeze them so none
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
        reap_children()
        time.sleep(0.02)
    reap_children()
    return killed


def reap_children():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                return
        except ChildProcessError:
            return


def format_exception(exc):
    tb = exc.__traceback__
    # Drop the kernel's own frames: the model should see only its cell and the libraries it called.
    while tb is not None and tb.tb_frame.f_code.co_filename == '<string>':
        tb = tb.tb_next
    return ''.join(traceback.format_exception(type(exc), exc, tb))


def read_output():
    sys.stdout.flush()
    sys.stderr.flush()
    with out_lock:
        capture.drain()
        head, tail, total = bytes(capture.head), capture.tail, capture.total
    kept = len(head) + len(tail)
    if total <= kept:
        return (head + tail).decode('utf-8', 'replace'), False, total
    marker = '\n[... %d bytes of output truncated ...]\n' % (total - kept)
    return head.decode('utf-8', 'replace') + marker + tail.decode('utf-8', 'replace'), True, total


def handle(request):
    started = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    with out_lock:
        capture.drain()
        capture.reset(int(request.get('max_output') or 20000))
    before = snapshot()
    error = None
    failure = None
    interrupted = False
    try:
        try:
            run_cell(request.get('code', ''))
        finally:
            if os.getpid() != MAIN_PID:
                os._exit(0)
    except KeyboardInterrupt as exc:
        interrupted = True
        error = 'KeyboardInterrupt'
        sys.stderr.write(format_exception(exc))
    except BaseException as exc:
        failure = exc
        error = type(exc).__name__
        sys.stderr.write(format_exception(exc))
    fork_failed = isinstance(failure, BlockingIOError)
    if fork_failed or pids_near_limit() or len(kernel_copies()) >= 16:
        killed = stop_fork_bomb()
        if killed:
            sys.stderr.write('[sandbox: the process limit was reached; %d forked copies of the kernel were killed]\n' % killed)
    figures = save_figures()
    after = snapshot()
    changed = [p for p, st in after.items() if before.get(p) != st]
    output, truncated, size = read_output()
    return {
        'id': request.get('id'),
        'output': output,
        'truncated': truncated,
        'output_bytes': size,
        'error': error,
        'interrupted': interrupted,
        'files': changed[:MAX_LISTED_FILES],
        'files_total': len(after),
        'figures': figures,
        'seconds': time.monotonic() - started,
    }


pending = b''


def read_request():
    """Next request line, or None at end of input or after HARMONIA_IDLE_EXIT idle seconds."""
    global pending
    while True:
        nl = pending.find(b'\n')
        if nl >= 0:
            line, pending = pending[:nl], pending[nl + 1:]
            if line.strip():
                return line
            continue
        if IDLE_EXIT > 0:
            ready, _, _ = select.select([req_fd], [], [], IDLE_EXIT)
            if not ready:
                return None
        chunk = os.read(req_fd, 1 << 16)
        if not chunk:
            return None
        pending += chunk


def main():
    send({'ready': True, 'python': sys.version.split()[0]})
    while True:
        try:
            line = read_request()
            if line is None:
                return
            try:
                request = json.loads(line)
            except ValueError as exc:
                send({'id': None, 'output': 'bad request: %s' % exc, 'error': 'ProtocolError'})
                continue
            try:
                reply = handle(request)
            except KeyboardInterrupt:
                # The interrupt landed after the cell, while its output was being collected: still answer.
                reply = {'id': request.get('id'), 'output': '', 'error': 'KeyboardInterrupt', 'interrupted': True}
            send(reply)
        except KeyboardInterrupt:
            # An interrupt that arrived between cells (the host timed out just as a cell finished): ignore it.
            continue


main()
os._exit(0)
`;
