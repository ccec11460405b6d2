def main():
    print("hello from hello_app")
