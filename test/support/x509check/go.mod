module pgssl.test/x509check

go 1.19
