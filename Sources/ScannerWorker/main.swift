// Placeholder until the worker lands (owned by the IPC/worker helper).
