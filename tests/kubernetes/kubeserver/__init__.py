# kubeserver: the test Kubernetes API server (see ../README.md); kube-test-server.py runs it.
