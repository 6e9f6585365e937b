import ScannerWorkerCore

// egress-scanner: the DLP worker the frontend spawns (never run by hand). No fault hooks here.
ScannerWorker.run()
