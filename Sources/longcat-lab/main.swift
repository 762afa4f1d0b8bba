print("longcat-lab")
