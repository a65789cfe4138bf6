module k8s-img.local/workload

go 1.24
