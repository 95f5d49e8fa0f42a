module github.com/anchor-webhooks/anchor-webhooks/bindings-go

go 1.24
