/** The one entry to onnxruntime-node: its POSIX telemetry is switched off before the runtime starts. */
import * as ort from 'onnxruntime-node';

/**
 * onnxruntime 1.29+ ships Microsoft's 1DS telemetry in its official Linux/macOS builds, on by default.
 * When the ORT environment is created (the first InferenceSession), the telemetry SDK reads
 * /proc/self/cmdline and runs a std::regex over it to name the app; libstdc++'s regex executor
 * recurses once per character, so a command line of ~29 KB or more (any long --prompt or --anchors)
 * overflows the 8 MB main-thread stack: SIGSEGV with no message. It also writes /tmp/mat-debug-<pid>.log
 * for every process and queues events in ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db
 * for upload. ORT reads ORT_DISABLE_TELEMETRY with getenv() when it creates its environment, which
 * onnxruntime-node does lazily on the first session, so setting it here (process.env writes through
 * to the C environment on the main thread) is early enough. Always set, not defaulted: a user's
 * ORT_DISABLE_TELEMETRY=0 would bring the crash back.
 */
process.env['ORT_DISABLE_TELEMETRY'] = '1';

export { ort };
