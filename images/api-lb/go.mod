module k8s-img.local/api-lb

go 1.24
