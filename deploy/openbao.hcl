# Production-shaped OpenBao: raft storage, TLS terminated in front, and the
# file audit device (OpenBao accepts audit devices only from its config).
storage "raft" {
  path    = "/openbao/data"
  node_id = "openbao-1"
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_disable     = true
}

audit "file" "sealed" {
  options {
    file_path = "/openbao/audit/audit.log"
  }
}

api_addr     = "http://openbao:8200"
cluster_addr = "http://openbao:8201"
ui           = false
