# Production-shaped OpenBao: persistent storage, TLS terminated in front, and
# the file audit device (OpenBao accepts audit devices only from its config).
storage "file" {
  path = "/openbao/data"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

audit "file" "sealed" {
  options {
    file_path = "/openbao/audit/audit.log"
  }
}

api_addr = "http://openbao:8200"
ui       = false
