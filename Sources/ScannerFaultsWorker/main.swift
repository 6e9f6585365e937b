// Placeholder until the fault worker lands (owned by the IPC/worker helper).
